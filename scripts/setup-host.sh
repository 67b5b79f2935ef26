#!/usr/bin/env bash
# Installs the Debian packages tinykube and its tests use, when they are missing (root only).
set -euo pipefail
pkgs=(containerd runc containernetworking-plugins catatonit busybox-static iptables etcd-server iproute2 kmod docker-registry python3-kubernetes nftables conntrack dnsperf iperf3 ethtool)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tinykube: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "tinykube: no apt-get here; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian enables and starts the system containerd and etcd; tinykube runs its own, so stop those.
for svc in containerd etcd docker-registry; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done
