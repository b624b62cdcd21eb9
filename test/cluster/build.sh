#!/usr/bin/env bash
# Builds the local Kubernetes control plane used by the integration tests and `npm run cluster:up`:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (module test/cluster/k8s)
# kwok (module test/cluster/kwok) and np-guard's netpol-analyzer (module test/cluster/netpol, used by the
# NetworkPolicy integration tests); stages kwok's "fast" stage config and the cert-manager CRDs.
#
# Guarantees:
# - prints exactly one line on stdout: the absolute bin dir; all progress goes to stderr;
# - the result lives OUTSIDE the repo, in ${XDG_CACHE_HOME:-$HOME/.cache}/langop-testcluster/<key>,
#   where <key> hashes every input (every go.mod/go.sum, versions.env, this script), so only a cold
#   machine (or a version change) pays the build; a warm call returns at once;
# - a dir is only published (atomic rename) after everything in it was built; concurrent callers
#   serialise on a lock file, so two test runs never build twice.
# Layout of the bin dir: etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok netpol-analyzer,
# kwok-stages/fast (a kustomize dir for `kwok --config`), cert-manager-crds/*.yaml.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

log() { printf '[cluster:build] %s\n' "$*" >&2; }

key="$(cat "$here/k8s/go.mod" "$here/k8s/go.sum" "$here/kwok/go.mod" "$here/kwok/go.sum" \
  "$here/netpol/go.mod" "$here/netpol/go.sum" "$here/versions.env" "$here/build.sh" | sha256sum | cut -c1-16)"
root="${XDG_CACHE_HOME:-$HOME/.cache}/langop-testcluster"
bin="$root/$key"
mkdir -p "$root"

if [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi

# Only a cold cache needs Go.
if ! command -v go >/dev/null 2>&1; then
  need="$(sed -n 's/^go \(.*\)$/\1/p' "$here/k8s/go.mod")"
  echo "test/cluster/build.sh: 'go' was not found on PATH. Building the local control plane needs Go >= $need (see test/cluster/k8s/go.mod); install it and retry." >&2
  exit 1
fi

exec 9>"$root/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi

started=$SECONDS
tmp="$bin.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
buildlog="$tmp/build.log"

# Runs `go build -v`, turning its per-package lines into a progress count; the full output is kept
# in build.log and its tail shown if the build fails.
gobuild() {
  local what="$1"
  shift
  log "building $what ..."
  local n=0 line
  if ! (CGO_ENABLED=0 go build -v -trimpath "$@" 2>&1 | tee -a "$buildlog" | while IFS= read -r line; do
    n=$((n + 1))
    if [ $((n % 100)) -eq 0 ]; then log "  $what: $n packages compiled ($((SECONDS - started)) s)"; fi
  done; exit "${PIPESTATUS[0]}"); then
    log "FAILED building $what; last lines of $buildlog:"
    tail -n 40 "$buildlog" >&2
    exit 1
  fi
}

KV="$KUBERNETES_VERSION"
MINOR="$(echo "$KV" | cut -d. -f2)"
V=k8s.io/component-base/version
C=k8s.io/client-go/pkg/version
ldk="-s -w -X $V.gitVersion=v$KV -X $V.gitMajor=1 -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean"
ldk="$ldk -X $V.buildDate=1970-01-01T00:00:00Z -X $C.gitVersion=v$KV -X $C.gitMajor=1 -X $C.gitMinor=$MINOR"
ldk="$ldk -X $C.gitTreeState=clean -X $C.buildDate=1970-01-01T00:00:00Z"

log "cold build into $bin (this takes a long time on a small machine; later runs reuse it)"
(
  cd "$here/k8s"
  # One invocation so the shared packages are compiled once for all four binaries.
  gobuild "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s v$KV)" \
    -ldflags "$ldk" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  # Explicit -o: the default name for .../server/v3 would be "v3".
  gobuild etcd -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
)
(
  cd "$here/kwok"
  gobuild "kwok v$KWOK_VERSION" -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
)
(
  cd "$here/netpol"
  # Its own module (its k8s.io deps must not mix with the control plane's); the version pin is its go.mod.
  npv="$(sed -n 's#^[[:space:]]*github.com/np-guard/netpol-analyzer \(v[^ ]*\).*#\1#p' go.mod)"
  gobuild "netpol-analyzer $npv" -ldflags "-s -w" \
    -o "$tmp/netpol-analyzer" github.com/np-guard/netpol-analyzer/cmd/netpolicy
)

# Module zips: read-only dirs in the module cache; copy what we need (writable) next to the binaries.
moddir() {
  (cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
}
log "staging kwok stages and cert-manager v$CERT_MANAGER_VERSION CRDs"
kwokdir="$(moddir "sigs.k8s.io/kwok@v$KWOK_VERSION")"
# The "fast" kustomization refers to ../node and ../pod, so keep the whole stage tree.
mkdir -p "$tmp/kwok-stages"
cp -R "$kwokdir/kustomize/stage/." "$tmp/kwok-stages/"
find "$tmp/kwok-stages" -name '*.go' -delete
chmod -R u+w "$tmp/kwok-stages"
cmdir="$(moddir "github.com/cert-manager/cert-manager@v$CERT_MANAGER_VERSION")"
mkdir -p "$tmp/cert-manager-crds"
cp "$cmdir"/deploy/crds/*.yaml "$tmp/cert-manager-crds/"
chmod -R u+w "$tmp/cert-manager-crds"

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok netpol-analyzer; do
  [ -x "$tmp/$b" ] || { log "missing $b after build"; exit 1; }
done
[ -f "$tmp/kwok-stages/fast/kustomization.yaml" ] || { log "kwok stage config missing"; exit 1; }
echo "built in $((SECONDS - started)) s" >"$tmp/.complete"
rm -rf "$bin"
mv "$tmp" "$bin"
log "done in $((SECONDS - started)) s"
# Keep this build and the most recent other one (e.g. another branch); drop older ~450 MB dirs.
kept=0
for old in $(ls -1dt "$root"/*/ 2>/dev/null); do
  old="${old%/}"
  case "$(basename "$old")" in "$key") continue ;; *[!0-9a-f]*) continue ;; esac
  [ "${#old}" -eq $((${#root} + 17)) ] || continue
  kept=$((kept + 1))
  [ "$kept" -le 1 ] && continue
  log "removing old build $old"
  rm -rf "$old"
done
echo "$bin"
