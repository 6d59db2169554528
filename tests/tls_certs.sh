#!/bin/bash
# tls_certs.sh DIR - makes throwaway certificates for testing ovio's mutual
# TLS (tls+tcp://) in DIR, with openssl.  Never use them for anything real:
# the keys are unencrypted and the CA is made on the spot.
#
#   ca.crt ca.key               the test CA (clients and the server)
#   server.crt server.key       the server, for 127.0.0.1, ::1 and localhost
#   client.crt client.key       a good client: CN=ovio-test-client, O=ovio test
#   other-ca.crt                another CA, that the service does not trust
#   other.crt other.key         a client certificate from that other CA
#   expired.crt expired.key     a client from the test CA, expired in 2020
#
# Each certificate is an EC P-256 key; the good ones are valid for 30
# days.  The expired one is made with `openssl ca` and -startdate /
# -enddate, as `openssl x509 -req` (OpenSSL 3.0) cannot backdate.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: tests/tls_certs.sh DIR" >&2; exit 2; }
DIR=$1
mkdir -p "$DIR"
cd "$DIR"
command -v openssl >/dev/null || {
    echo "tls_certs.sh: openssl is not installed (Debian package openssl)" >&2
    exit 1
}
exec 3>openssl.log
ossl() { openssl "$@" 2>&3 >&3 || { cat openssl.log >&2; exit 1; }; }

key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# ca NAME SUBJECT: a self-signed CA certificate NAME.crt with key NAME.key.
ca() {
    key "$1.key"
    ossl req -x509 -new -key "$1.key" -days 30 -subj "$2" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
}

# leaf NAME SUBJECT CA EXT: NAME.crt signed by CA, with extensions EXT.
leaf() {
    key "$1.key"
    ossl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%b' "$4" >"$1.ext"
    ossl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
        -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt"
    rm -f "$1.csr" "$1.ext"
}

CLIENT_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n'
SERVER_EXT='basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n'

ca ca "/O=ovio test/CN=ovio test CA"
leaf server "/O=ovio test/CN=localhost" ca "$SERVER_EXT"
leaf client "/O=ovio test/CN=ovio-test-client" ca "$CLIENT_EXT"
ca other-ca "/O=someone else/CN=another CA"
leaf other "/O=someone else/CN=ovio-test-client" other-ca "$CLIENT_EXT"

# The expired client: `openssl ca` takes explicit start and end dates.
key expired.key
ossl req -new -key expired.key -subj "/O=ovio test/CN=ovio-expired-client" \
    -out expired.csr
mkdir -p ca-db
: >ca-db/index.txt
cat >ca-db/ca.cnf <<EOF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = client
[any]
organizationName = optional
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
EOF
echo 1000 >ca-db/serial
ossl ca -batch -config ca-db/ca.cnf -cert ca.crt -keyfile ca.key \
    -startdate 20200101000000Z -enddate 20200201000000Z \
    -in expired.csr -out expired.crt
rm -rf expired.csr ca-db ca.srl other-ca.srl
exec 3>&-
rm -f openssl.log
