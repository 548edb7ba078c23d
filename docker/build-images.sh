#!/usr/bin/env bash
# Builds localhost/sluice:latest and localhost/sluice-prometheus:latest with
# podman, on a machine that reaches Debian's package mirror but no image
# registry: the Debian 12 base the image definitions start from
# (docker.io/library/debian:bookworm) is made with `debootstrap --variant=minbase
# bookworm` and `podman import` when podman does not have it yet.
# Installs podman, buildah, podman-compose, debootstrap and runc when missing
# (as root). On machines where podman needs them, set CONTAINERS_CONF to a
# containers.conf like docker/containers.conf (runc, ulimits within the host's).
#   docker/build-images.sh [--rebuild-base]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=docker.io/library/debian:bookworm

missing=()
for tool in podman buildah podman-compose debootstrap runc; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
    missing+=("$tool")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then echo "missing: apt-get install ${missing[*]}" >&2; exit 1; fi
  echo "Installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The mirror apt uses here: debootstrap fetches from the same one.
mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -m1 '/debian/*$' || true)
  [[ -n $uri ]] || uri=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
    /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $uri ]] || { echo "no Debian mirror found in /etc/apt" >&2; return 1; }
  echo "$uri"
}

if [[ ${1:-} == --rebuild-base ]] || ! podman image exists "$base"; then
  rootfs=$(mktemp -d /var/tmp/sluice-debootstrap-XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "Making $base with debootstrap (minbase bookworm)..."
  PATH=$PATH:/usr/sbin debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" \
    >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs.log"
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
fi

cd "$src"
echo "Building localhost/sluice:latest..."
podman build -q --network host -f docker/Containerfile -t localhost/sluice:latest .
echo "Building localhost/sluice-prometheus:latest..."
podman build -q --network host -f docker/prometheus/Containerfile \
  -t localhost/sluice-prometheus:latest .
# Earlier builds' stages, untagged now: they would fill the disk build after
# build (the ccache mount is kept apart and stays).
podman image prune -f --filter until=24h >/dev/null
