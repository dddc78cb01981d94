#!/usr/bin/env bash
# Runs every picsoak test: formatting, vet, and the whole Go suite with the race
# detector, including the promtool rule tests, the end-to-end tests against the
# real Prometheus, Alertmanager and Pushgateway and the HTTP clients' tests against
# real nginx and Node. Installs what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-pushgateway >/dev/null || need+=(prometheus-pushgateway) # batch runs' end-to-end test
command -v chromium >/dev/null || need+=(chromium) # the status page's browser test
command -v nginx >/dev/null || need+=(nginx)       # soak/httptarget's real servers: nginx,
command -v node >/dev/null || need+=(nodejs)       # and Node
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: run  sudo apt-get install -y ${need[*]}  and try again" >&2
    exit 1
  fi
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
# One package at a time (-p 1): several tests measure rates and latencies, and the
# end-to-end and browser tests would otherwise load both cores while they measure.
go test -race -count=1 -p 1 "$@" ./...

# A brief fuzz of every parser of outside input, from the committed seeds (go test -fuzz
# takes one target at a time); FUZZTIME=200000x ./scripts/test.sh searches longer. The
# budget is a count of executions, not a duration: Go 1.26's fuzz coordinator can fail
# a run with "context deadline exceeded" when a duration ends mid-execution
# (golang/go#75804, fixed in Go 1.27).
for file in $(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go'); do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -c6-); do
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-10000x}" "./$(dirname "$file")/"
  done
done
