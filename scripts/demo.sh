#!/usr/bin/env bash
# demo.sh records the bundled Go HTTP server while its driver runs, emits the
# learned OCI profile, and reruns server and driver inside runc under that
# profile, printing the verdict. Usage: scripts/demo.sh [PROFGEN]
set -euo pipefail
cd "$(dirname "$0")/.."
profgen=$(realpath "${1:-bin/profgen}")
out=${DEMO_OUT:-out/demo}
port=${DEMO_PORT:-18080}
addr=127.0.0.1:$port
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build the workload: testdata/workloads/httpserver and its driver"
CGO_ENABLED=0 go build -o "$out/server" ./testdata/workloads/httpserver
CGO_ENABLED=0 go build -o "$out/driver" ./testdata/workloads/httpserver/driver

step "record: profgen record --drive ... -- server"
"$profgen" record -o "$out/recording.json" \
	--ready "tcp:$addr" --drive "$out/driver --addr $addr" \
	-- "$out/server" --addr "$addr"

step "learn: profgen emit --format text (what the profile allows, and why)"
"$profgen" emit --format text "$out/recording.json"

step "emit: profgen emit --format oci -o $out/seccomp.json"
"$profgen" emit --format oci --runtime runc -o "$out/seccomp.json" "$out/recording.json"
echo "wrote $out/seccomp.json ($(grep -c '"' "$out/seccomp.json") lines of JSON); use it with:"
echo "  docker run --security-opt seccomp=$out/seccomp.json ..."

step "verify: profgen replay --runtime runc (server in runc under the profile, driver on the host)"
"$profgen" replay --runtime runc --profile "$out/seccomp.json" \
	--ready "tcp:$addr" --drive "$out/driver --addr $addr" \
	-- "$out/server" --addr "$addr"
