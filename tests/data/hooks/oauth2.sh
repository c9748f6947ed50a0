#!/bin/sh
# Prints an OAuth 2 token response (RFC 6749 section 5.1), as the metadata
# server and STS answer.   usage: oauth2.sh TOKEN EXPIRES_IN_SECONDS
printf '{"access_token":"%s","token_type":"Bearer","expires_in":%s}\n' "$1" "$2"
