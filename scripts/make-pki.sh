#!/usr/bin/env bash
# Makes a throwaway PKI shaped like the one the original Flask set-up used:
#   root-ca -> intermediate -> server (localhost, 127.0.0.1) and clients.
# Every file is test or demo material only; keys are unencrypted.
#
#   scripts/make-pki.sh OUT_DIR
#
# OUT_DIR receives:
#   root-ca.crt intermediate.crt ca-chain.crt (intermediate + root, as the original)
#   server.crt (leaf + intermediate) server.key
#   client.crt client.key              CN=app-team-client, O=Internal, clientAuth
#   other-ca.crt other-client.crt/.key a client from an unrelated CA
#   expired-client.*  future-client.*  a client outside its validity window
#   serveronly-client.*                extended key usage serverAuth only
#   noeku-client.*                     no extended key usage at all
#   ec-client.*                        ECDSA P-256 client, CN=ec-client
#   ec-server.crt/.key                 ECDSA P-256 server leaf + intermediate
#
# and, for the tests of access rules, trust, revocation and key formats:
#   team-client.*        CN=ci-runner, O=Internal, OU=CI, with a DNS name, a
#                        SPIFFE URI, an email and an IP in subjectAltName
#   partner-client.*     CN=web-frontend, O=Partner, OU=Web, other SAN values
#   client-chain.crt     client.crt followed by intermediate.crt
#   sub-intermediate.*   a CA under the intermediate (CN=Demo Sub CA)
#   deep-client.*        a client of the sub CA; deep-client-chain.crt adds
#                        the sub CA: leaf -> sub -> intermediate -> root
#   revoked-client.*     a client listed in intermediate.crl
#   ed25519-client.*     an Ed25519 client
#   intermediate.crl     from the intermediate: revokes revoked-client and
#                        sub-intermediate; next update in 30 days
#   intermediate-expired.crl  the same issuer, next update in 2020
#   intermediate-empty.crl    the same issuer before it revoked anything
#   root.crl sub.crl     empty CRLs from the root and from the sub CA
#   server-pkcs1.key     server.key as PKCS#1 (server.key is PKCS#8)
#   ec-server-sec1.key   ec-server.key as SEC1 (ec-server.key is PKCS#8)
#   ed25519-server.crt/.key   an Ed25519 server leaf + intermediate
#   server-encrypted.key server.key as encrypted PKCS#8 (AES-256-CBC), its
#                        passphrase in server-key.pass
set -euo pipefail

out=${1:?usage: make-pki.sh OUT_DIR}
mkdir -p "$out"
cd "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ed25519_key() { openssl genpkey -algorithm ED25519 -out "$1" 2>/dev/null; }

# A minimal `openssl ca` set-up per issuing CA, so validity windows can be set
# explicitly (x509 -req in OpenSSL 3.0 cannot back-date).
ca_setup() {
  local name=$1
  mkdir -p "$work/$name"
  : >"$work/$name/index.txt"
  openssl rand -hex 16 >"$work/$name/serial"
  echo 01 >"$work/$name/crlnumber"
  cat >"$work/$name/ca.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $work/$name
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
crlnumber = \$dir/crlnumber
crl_extensions = crl_ext
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
default_crl_days = 30
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[ v3_serveronly ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
[ v3_noeku ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
[ v3_team ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:runner-7.ci.corp.example, URI:spiffe://corp/ns/ci/sa/runner, email:ci-bot@corp.example, IP:10.20.30.40
[ v3_partner ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:web.partner.example, URI:spiffe://partner/ns/web/sa/frontend, email:web@partner.example, IP:192.0.2.10
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}

# sign CA_NAME CA_CERT CA_KEY SUBJECT KEY OUT_CERT EXTENSION [START END]
sign() {
  local ca=$1 cacert=$2 cakey=$3 subj=$4 key=$5 crt=$6 ext=$7
  local start=${8:-} end=${9:-}
  openssl req -new -key "$key" -subj "$subj" -out "$work/req.csr" 2>/dev/null
  local dates=(-days 825)
  if [[ -n $start ]]; then dates=(-startdate "$start" -enddate "$end"); fi
  openssl ca -batch -notext -config "$work/$ca/ca.cnf" -cert "$cacert" -keyfile "$cakey" \
    -extensions "$ext" "${dates[@]}" -in "$work/req.csr" -out "$crt" 2>/dev/null
}

self_signed_ca() {
  local key=$1 crt=$2 subj=$3
  rsa_key "$key"
  openssl req -x509 -new -key "$key" -subj "$subj" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$crt" 2>/dev/null
}

# Root and intermediate, as the internal PKI of the original document.
self_signed_ca root-ca.key root-ca.crt "/CN=Demo Root CA/O=Internal"
ca_setup root
rsa_key intermediate.key
sign root root-ca.crt root-ca.key "/CN=Demo Intermediate CA/O=Internal" intermediate.key \
  intermediate.crt v3_ca
cat intermediate.crt root-ca.crt >ca-chain.crt

ca_setup inter
issue() {  # issue NAME SUBJECT EXTENSION KEYKIND [START END]
  local name=$1 subj=$2 ext=$3 kind=$4
  "${kind}_key" "$name.key"
  sign inter intermediate.crt intermediate.key "$subj" "$name.key" "$name.crt" "$ext" "${@:5}"
}
issue server-leaf "/CN=localhost/O=Internal" v3_server rsa
cat server-leaf.crt intermediate.crt >server.crt
mv server-leaf.key server.key
rm -f server-leaf.crt
issue ec-server-leaf "/CN=localhost/O=Internal" v3_server ec
cat ec-server-leaf.crt intermediate.crt >ec-server.crt
mv ec-server-leaf.key ec-server.key
rm -f ec-server-leaf.crt

issue client "/CN=app-team-client/O=Internal" v3_client rsa
issue ec-client "/CN=ec-client/O=Internal" v3_client ec
issue expired-client "/CN=expired-client/O=Internal" v3_client rsa 20200101000000Z 20210101000000Z
issue future-client "/CN=future-client/O=Internal" v3_client rsa 20900101000000Z 20910101000000Z
issue serveronly-client "/CN=serveronly-client/O=Internal" v3_serveronly rsa
issue noeku-client "/CN=noeku-client/O=Internal" v3_noeku rsa

# An unrelated CA and a client it signed: must never be trusted.
self_signed_ca other-ca.key other-ca.crt "/CN=Other Root CA/O=Elsewhere"
ca_setup other
other_client() {
  rsa_key other-client.key
  sign other other-ca.crt other-ca.key "/CN=app-team-client/O=Internal" other-client.key \
    other-client.crt v3_client
}
other_client

# Access rules: two clients that differ in every field a rule can name.
issue team-client "/CN=ci-runner/O=Internal/OU=CI" v3_team ec
issue partner-client "/CN=web-frontend/O=Partner/OU=Web" v3_partner ec
issue ed25519-client "/CN=ed25519-client/O=Internal" v3_client ed25519
cat client.crt intermediate.crt >client-chain.crt

# A deeper chain: leaf -> sub CA -> intermediate -> root.
ec_key sub-intermediate.key
sign inter intermediate.crt intermediate.key "/CN=Demo Sub CA/O=Internal" sub-intermediate.key \
  sub-intermediate.crt v3_ca
ca_setup sub
ec_key deep-client.key
sign sub sub-intermediate.crt sub-intermediate.key "/CN=deep-client/O=Internal" deep-client.key \
  deep-client.crt v3_client
cat deep-client.crt sub-intermediate.crt >deep-client-chain.crt

# Revocation: the intermediate revokes a client and the sub CA; the root and
# the sub CA revoke nothing. `openssl ca` finds each serial in its database.
issue revoked-client "/CN=revoked-client/O=Internal" v3_client ec
inter_ca=(-config "$work/inter/ca.cnf" -cert intermediate.crt -keyfile intermediate.key)
openssl ca -batch "${inter_ca[@]}" -gencrl -crldays 30 -out intermediate-empty.crl 2>/dev/null
openssl ca -batch "${inter_ca[@]}" -revoke revoked-client.crt 2>/dev/null
openssl ca -batch "${inter_ca[@]}" -revoke sub-intermediate.crt 2>/dev/null
openssl ca -batch "${inter_ca[@]}" -gencrl -crldays 30 -out intermediate.crl 2>/dev/null
openssl ca -batch "${inter_ca[@]}" -gencrl -crl_lastupdate 20200101000000Z \
  -crl_nextupdate 20200201000000Z -out intermediate-expired.crl 2>/dev/null
openssl ca -batch -config "$work/root/ca.cnf" -cert root-ca.crt -keyfile root-ca.key -gencrl \
  -crldays 30 -out root.crl 2>/dev/null
openssl ca -batch -config "$work/sub/ca.cnf" -cert sub-intermediate.crt \
  -keyfile sub-intermediate.key -gencrl -crldays 30 -out sub.crl 2>/dev/null

# Server keys in every form the daemon reads.
openssl pkey -in server.key -traditional -out server-pkcs1.key 2>/dev/null
openssl ec -in ec-server.key -out ec-server-sec1.key 2>/dev/null
issue ed25519-server-leaf "/CN=localhost/O=Internal" v3_server ed25519
cat ed25519-server-leaf.crt intermediate.crt >ed25519-server.crt
mv ed25519-server-leaf.key ed25519-server.key
rm -f ed25519-server-leaf.crt
openssl rand -hex 16 >server-key.pass
openssl pkcs8 -topk8 -v2 aes-256-cbc -in server.key -passout file:server-key.pass \
  -out server-encrypted.key 2>/dev/null
chmod 600 ./*.key server-key.pass
