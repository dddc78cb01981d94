#!/usr/bin/env bash
# Performance matrix of issue 4: picsoak against nginx next to wrk, fortio and vegeta,
# in one run, with the goals checked. Needs both cores quietly; not part of CI.
#   bench/run.sh                      # full: 5 closed-loop repetitions and 5 open-loop pairs of 10 s, 1 M and 10 M requests
#   bench/run.sh -reps 1 -open-reps 1 -duration 3s -mem-small 200000 -mem-large 1000000   # a quick look
# Exits non-zero when a goal is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in nginx wrk tcpdump; do command -v "$pkg" >/dev/null || need+=("$pkg"); done
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: sudo apt-get install -y ${need[*]}" >&2; exit 1
  fi
fi

bin="$PWD/bench/.bin"
mkdir -p "$bin"
# The peers, at the versions docs/performance.md's tables were measured with. Newer fortio
# releases need a module the module proxy here refuses.
[ -x "$bin/fortio" ] || GOBIN="$bin" GOFLAGS= go install fortio.org/fortio@v1.68.2
[ -x "$bin/vegeta" ] || GOBIN="$bin" GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0
go build -o "$bin/picsoak" ./cmd/picsoak

exec go run ./bench/matrix -picsoak "$bin/picsoak" -fortio "$bin/fortio" -vegeta "$bin/vegeta" -wrk "$(command -v wrk)" -nginx "$(command -v nginx)" "$@"
