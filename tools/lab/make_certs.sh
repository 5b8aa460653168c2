#!/bin/bash
# The lab's certificates, in DIR: a lab CA (ca.crt, ca.key), one RSA key
# (rsa.key: coturn's DTLS needs RSA) and one certificate per label of
# `labplan.py certs` (LABEL.crt, its names as subjectAltName), valid 2 days.
# Used by run.sh and probe_matrix.py.
#
#   tools/lab/make_certs.sh DIR
set -euo pipefail
LAB="$(cd "$(dirname "$0")" && pwd)"
d="${1:?usage: make_certs.sh DIR}"
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
  -subj "/CN=callwall lab CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl genrsa -out "$d/rsa.key" 2048 2>/dev/null
/usr/bin/python3 "$LAB/labplan.py" certs | while read -r label names; do
  san=""
  for n in $names; do san="${san:+$san,}DNS:$n"; done
  openssl req -new -key "$d/rsa.key" -subj "/CN=${names%% *}" -out "$d/$label.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$d/$label.ext"
  openssl x509 -req -in "$d/$label.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/$label.ext" -out "$d/$label.crt" 2>/dev/null
done
