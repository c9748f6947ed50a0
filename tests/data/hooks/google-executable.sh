#!/bin/sh
# Prints a Google executable-sourced credential response (AIP-4117) holding
# TOKEN as an OIDC ID token, and caches it in the output file when the
# caller names one, as such executables must.
#   usage: google-executable.sh TOKEN EXPIRATION_TIME_EPOCH_SECONDS
response=$(printf '{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:id_token","id_token":"%s","expiration_time":%s}' "$1" "$2")
if [ -n "$GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE" ]; then
  printf '%s\n' "$response" > "$GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE"
fi
printf '%s\n' "$response"
