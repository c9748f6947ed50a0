#!/bin/sh
# Prints a Kubernetes ExecCredential, as a client-go credential plugin does.
#   usage: exec-credential.sh TOKEN EXPIRATION_TIMESTAMP_RFC3339
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$1" "$2"
