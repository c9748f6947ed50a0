#!/bin/sh
# Prints an IAM Credentials generateAccessToken response.
#   usage: iam-access-token.sh TOKEN EXPIRE_TIME_RFC3339
printf '{"accessToken":"%s","expireTime":"%s"}\n' "$1" "$2"
