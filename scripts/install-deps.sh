#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice builds and runs with, if missing.
set -euo pipefail

packages=(
  cmake g++ ninja-build pkg-config ccache
  clang clang-format  # scripts/build-clang.sh (thread-safety analysis), scripts/check-format.sh
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libspdlog-dev libyaml-cpp-dev prometheus-cpp-dev libcpp-httplib-dev libmicrohttpd-dev libcli11-dev
  nlohmann-json3-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev openssl procps curl hostname  # openssl: bin/sluice-certs.sh
  python3  # tests/nexmark: the queries' brute-force reference
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
