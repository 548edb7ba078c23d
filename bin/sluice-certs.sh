#!/usr/bin/env bash
# Makes a cluster CA and a certificate for each daemon name given, with
# openssl (PEM, ECDSA P-256):
#   bin/sluice-certs.sh <dir> <name>[,<address>...] ...
# e.g. bin/sluice-certs.sh conf/tls jobmanager,127.0.0.1,localhost
# writes <dir>/ca.pem and ca-key.pem (keep ca-key.pem off the cluster) and
# <dir>/<name>.pem and <name>-key.pem, each valid for its name and the
# addresses after it (IP addresses or DNS names), for
# SLUICE_CERT_DAYS (default 365) days. An existing CA in <dir> is reused, so
# certificates added later chain to the same CA. Keys are readable by their
# owner only.
set -euo pipefail
if (($# < 2)); then
  echo "usage: $0 <dir> <name>[,<address>...] ..." >&2
  exit 1
fi
dir=$1
shift
days=${SLUICE_CERT_DAYS:-365}
mkdir -p "$dir"
umask 077
if [[ ! -s $dir/ca.pem || ! -s $dir/ca-key.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=Sluice cluster CA" -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
fi
for spec in "$@"; do
  IFS=, read -r name addresses <<<"$spec,"
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || { echo "$0: '$name' is not a file-safe name" >&2; exit 1; }
  san="DNS:$name"
  IFS=, read -ra extra <<<"${addresses%,}"
  for address in "${extra[@]}"; do
    [[ -z $address ]] && continue
    if [[ $address =~ ^[0-9.]+$ || $address == *:* ]]; then san+=",IP:$address"; else san+=",DNS:$address"; fi
  done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name-key.pem" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
    -CAcreateserial -days "$days" -out "$dir/$name.pem" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san") 2>/dev/null
  rm -f "$dir/$name.csr"
  chmod 644 "$dir/$name.pem"
  echo "$dir/$name.pem ($san)"
done
chmod 644 "$dir/ca.pem"
