#!/usr/bin/env bash
# deps.sh installs the Debian packages profgen needs that are missing.
#   scripts/deps.sh            what build, test and demo need (systemd for
#                              systemd-analyze, bubblewrap for bwrap: the emit tests;
#                              memcached: the --no-new-privileges server test;
#                              apache2-bin: record and replay of a server that daemonises;
#                              the binary and modules only, no service that starts on port 80;
#                              nginx-light, redis-server, memcached: reachable's recall tests)
#   scripts/deps.sh generate   also what `make generate` needs (clang, llvm, libbpf-dev)
#   scripts/deps.sh bench      also what `make bench` needs (redis-server, redis-tools:
#                              the real server under its own load generator; bpftrace:
#                              the tool a user would type instead)
set -euo pipefail

pkgs=(gcc libc6-dev pkg-config libseccomp-dev runc crun strace systemd bubblewrap memcached podman docker.io apache2-bin redis-server nginx-light)
case "${1:-}" in
generate) pkgs+=(clang llvm libbpf-dev) ;;
bench) pkgs+=(redis-server redis-tools bpftrace) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
