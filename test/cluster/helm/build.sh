#!/usr/bin/env bash
# Builds the helm binary the chart tests use (`helm lint`, `helm template`, `helm install` against the local
# control plane), from the Go module proxy at the version pinned in go.mod (helm.sh/helm/v4).
#
# Guarantees (the same pattern as test/cluster/build.sh):
# - prints exactly one line on stdout: the absolute path of the helm binary; progress goes to stderr;
# - the binary lives OUTSIDE the repo, in ${XDG_CACHE_HOME:-$HOME/.cache}/langop-helm/<key>/helm, where
#   <key> hashes go.mod, go.sum and this script, so only a cold machine (or a version change) builds;
# - it is published (atomic rename) only after it built and answered `helm version`; concurrent callers
#   serialise on a lock file, so two test runs never build twice.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[helm:build] %s\n' "$*" >&2; }

key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
root="${XDG_CACHE_HOME:-$HOME/.cache}/langop-helm"
dir="$root/$key"
mkdir -p "$root"

if [ -f "$dir/.complete" ]; then
  echo "$dir/helm"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  need="$(sed -n 's/^go \(.*\)$/\1/p' "$here/go.mod")"
  echo "test/cluster/helm/build.sh: 'go' was not found on PATH. Building helm needs Go >= $need (see test/cluster/helm/go.mod); install it and retry." >&2
  exit 1
fi

exec 9>"$root/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -f "$dir/.complete" ]; then
  echo "$dir/helm"
  exit 0
fi

started=$SECONDS
version="$(sed -n 's#^require helm.sh/helm/v4 \(v[^ ]*\)$#\1#p' "$here/go.mod")"
[ -n "$version" ] || { log "no helm.sh/helm/v4 version in go.mod"; exit 1; }
tmp="$dir.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
log "cold build of helm $version into $dir (a few minutes on a small machine; later runs reuse it)"
if ! (cd "$here" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
  -o "$tmp/helm" helm.sh/helm/v4/cmd/helm >"$tmp/build.log" 2>&1); then
  log "FAILED building helm; last lines of $tmp/build.log:"
  tail -n 40 "$tmp/build.log" >&2
  exit 1
fi
"$tmp/helm" version --short >&2
echo "built in $((SECONDS - started)) s" >"$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
log "done in $((SECONDS - started)) s"
# Keep this build only: an older helm is never used again.
for old in "$root"/*/; do
  old="${old%/}"
  [ "$old" = "$dir" ] && continue
  case "$(basename "$old")" in *[!0-9a-f]*) continue ;; esac
  rm -rf "$old"
done
echo "$dir/helm"
