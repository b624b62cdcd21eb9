#!/usr/bin/env bash
# Prints the directory holding the upstream OpenAPI v3 documents (api/openapi-spec/v3/*.json) of
# the pinned k8s.io/kubernetes release, as unpacked in the Go module cache. Downloads the module
# zip (~30 MB) on first use; needs only `go` and the Go module proxy, no build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
if ! command -v go >/dev/null 2>&1; then
  echo "openapi-path.sh: 'go' not found on PATH (needs Go >= 1.26, see test/cluster/k8s/go.mod)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Run outside any module so the project's own go.mod (if any) plays no part.
dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
spec="$dir/api/openapi-spec/v3"
if [ ! -d "$spec" ]; then
  echo "openapi-path.sh: $spec missing after download" >&2
  exit 1
fi
echo "$spec"
