#!/usr/bin/env bash
# Performance matrix of issues 4 and 18: picsoak against nginx next to wrk, fortio and
# vegeta, and the scale stage (picsoak, fortio, vegeta and k6 at 50, 1,000 and 10,000
# requests in flight against a slow target), in one run, with the goals checked.
# Needs both cores quietly; not part of CI.
#   bench/run.sh                      # full: 5 closed-loop repetitions and 5 open-loop pairs of 10 s, 1 M and 10 M requests, then the scale stage
#   bench/run.sh -reps 1 -open-reps 1 -duration 3s -mem-small 200000 -mem-large 1000000 -only nginx   # a quick look at the nginx stages
#   bench/run.sh -only scale          # the scale stage alone (~9 min)
#   bench/run.sh -only scale -scale-levels 50,10000 -scale-duration 12s   # a quick look at it
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
[ -x "$bin/k6" ] || GOBIN="$bin" GOFLAGS= go install go.k6.io/k6@v1.8.1
go build -o "$bin/picsoak" ./cmd/picsoak

# The scale stage's target and generators hold a descriptor per connection, 12,000 at
# 10,000 in flight: take the hard limit (the matrix checks it is enough).
ulimit -n "$(ulimit -Hn)"

exec go run ./bench/matrix -picsoak "$bin/picsoak" -fortio "$bin/fortio" -vegeta "$bin/vegeta" -k6 "$bin/k6" -wrk "$(command -v wrk)" -nginx "$(command -v nginx)" "$@"
