#!/usr/bin/env bash
# deps.sh installs the Debian packages profgen needs that are missing.
#   scripts/deps.sh            what build, test and demo need (systemd for
#                              systemd-analyze, bubblewrap for bwrap: the emit tests;
#                              memcached: the --no-new-privileges server test;
#                              apache2-bin: record and replay of a server that daemonises;
#                              the binary and modules only, no service that starts on port 80;
#                              containerd: the CRI tests, with crictl built into bin/;
#                              docker-registry: the registry push and pull are tested against;
#                              nginx-light, redis-server, memcached: reachable's recall tests and
#                              the Landlock end-to-end server)
#   scripts/deps.sh generate   also what `make generate` needs (clang, llvm, libbpf-dev)
#   scripts/deps.sh bench      also what `make bench` needs (redis-server, redis-tools:
#                              the real server under its own load generator; bpftrace:
#                              the tool a user would type instead)
set -euo pipefail

pkgs=(gcc libc6-dev pkg-config libseccomp-dev runc crun strace systemd bubblewrap memcached podman docker.io apache2-bin redis-server containerd docker-registry nginx-light postgresql)
case "${1:-}" in
generate) pkgs+=(clang llvm libbpf-dev) ;;
bench) pkgs+=(redis-server redis-tools bpftrace) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# crictl, from its Go module at a pinned version (internal/critest's
# CrictlVersion), into the project's bin/: the CRI tests drive containerd
# with it.
crictl_version=v1.37.0
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! go version -m "$root/bin/crictl" 2>/dev/null | grep -q "mod[[:space:]]*sigs.k8s.io/cri-tools[[:space:]]*$crictl_version"; then
	echo "deps: building crictl $crictl_version into bin/" >&2
	GOBIN="$root/bin" go install "sigs.k8s.io/cri-tools/cmd/crictl@$crictl_version"
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
