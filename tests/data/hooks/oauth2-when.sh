#!/bin/sh
# Waits until GO_FILE exists, then prints an OAuth 2 token response, so a
# test decides when the run ends.   usage: oauth2-when.sh GO_FILE TOKEN EXPIRES_IN
while [ ! -e "$1" ]; do
  sleep 0.01
done
printf '{"access_token":"%s","token_type":"Bearer","expires_in":%s}\n' "$2" "$3"
