#!/bin/sh
# Prints a JSON object of no known format, for json_field: result.secret and
# result.ttl_seconds.   usage: json-field.sh TOKEN TTL_SECONDS
printf '{"result":{"secret":"%s","ttl_seconds":%s}}\n' "$1" "$2"
