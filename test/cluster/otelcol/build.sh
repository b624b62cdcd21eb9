#!/usr/bin/env bash
# Builds the OpenTelemetry Collector the tracing integration test exports to (module in this dir:
# the core distribution's OTLP receiver and OTLP/HTTP + debug exporters, versions pinned in go.mod).
#
# Guarantees (as test/cluster/build.sh):
# - prints exactly one line on stdout: the absolute path of the binary; progress goes to stderr;
# - the binary lives OUTSIDE the repo, in ${XDG_CACHE_HOME:-$HOME/.cache}/langop-otelcol/<key>,
#   where <key> hashes go.mod, go.sum, main.go and this script, so only a cold machine pays the build;
# - it is published by an atomic rename after a complete build; concurrent callers serialise on a lock.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[otelcol:build] %s\n' "$*" >&2; }

key="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" "$here/build.sh" | sha256sum | cut -c1-16)"
root="${XDG_CACHE_HOME:-$HOME/.cache}/langop-otelcol"
bin="$root/$key/otelcol-langop"
mkdir -p "$root"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  need="$(sed -n 's/^go \(.*\)$/\1/p' "$here/go.mod")"
  echo "test/cluster/otelcol/build.sh: 'go' was not found on PATH. Building the OpenTelemetry Collector for the tracing test needs Go >= $need; install it and retry." >&2
  exit 1
fi

exec 9>"$root/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

started=$SECONDS
tmp="$root/$key.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
log "cold build of the OpenTelemetry Collector into $root/$key (a few minutes; later runs reuse it)"
if ! (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/otelcol-langop" . >"$tmp/build.log" 2>&1); then
  log "FAILED; last lines of $tmp/build.log:"
  tail -n 40 "$tmp/build.log" >&2
  exit 1
fi
rm -rf "$root/$key"
mv "$tmp" "$root/$key"
log "done in $((SECONDS - started)) s"
# Keep only this build.
for old in "$root"/*/; do
  old="${old%/}"
  [ "$(basename "$old")" = "$key" ] || rm -rf "$old"
done
echo "$bin"
