#!/usr/bin/env bash
# Builds what a real node beside the kwok nodes runs (`npm run cluster:up -- --real-node`):
# kubelet and kube-proxy (k8s.io/kubernetes, same version as the control plane), containerd with its
# runc shim and ctr, runc, the CNI plugins bridge/host-local/loopback/portmap, CoreDNS (only the
# plugins a cluster DNS needs), the pause process and nsproxy (forwards the API server into the
# node's network namespace); and stages busybox-static from Debian for the
# images' shell and `nc`.
#
# Same contract as ../build.sh:
# - prints exactly one line on stdout: the absolute dir; progress goes to stderr;
# - the result lives outside the repo in ${XDG_CACHE_HOME:-$HOME/.cache}/langop-testnode/<key>, where
#   <key> hashes every input (each module's go.mod/go.sum and sources, versions.env, this script);
# - a dir is published (atomic rename) only once complete; concurrent callers serialise on a lock.
# Layout: bin/{kubelet,kube-proxy,containerd,containerd-shim-runc-v2,ctr,runc,coredns,pause,nsproxy},
# cni/{bridge,host-local,loopback,portmap}, busybox/busybox, VERSIONS (what was built).
#
# Host prerequisites (Debian): libseccomp-dev (runc is linked statically against libseccomp, so the
# containers' RuntimeDefault seccomp profiles work), and at run time iptables and conntrack.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=../versions.env
. "$here/../versions.env"

log() { printf '[node:build] %s\n' "$*" >&2; }

modules="kube containerd runc cni coredns pause nsproxy"
key="$(
  for m in $modules; do cat "$here/$m/go.mod"; [ -f "$here/$m/go.sum" ] && cat "$here/$m/go.sum"; cat "$here/$m"/*.go 2>/dev/null || true; done
  cat "$here/versions.env" "$here/../versions.env" "$here/build.sh"
)"
key="$(printf '%s' "$key" | sha256sum | cut -c1-16)"
root="${XDG_CACHE_HOME:-$HOME/.cache}/langop-testnode"
out="$root/$key"
mkdir -p "$root"

if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

missing=""
command -v go >/dev/null 2>&1 || missing="$missing go"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
[ -f /usr/include/seccomp.h ] || missing="$missing libseccomp-dev"
command -v apt-get >/dev/null 2>&1 || missing="$missing apt-get"
command -v dpkg-deb >/dev/null 2>&1 || missing="$missing dpkg-deb"
if [ -n "$missing" ]; then
  echo "test/cluster/node/build.sh: missing on this machine:$missing. The real node needs Go (see test/cluster/node/kube/go.mod), gcc and Debian's libseccomp-dev to build (apt-get install gcc libseccomp-dev), and apt-get to fetch busybox-static." >&2
  exit 1
fi

exec 9>"$root/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

started=$SECONDS
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/cni" "$tmp/busybox"
buildlog="$tmp/build.log"

# `go build -v` with a package count as progress; the full output stays in build.log.
gobuild() {
  local what="$1"
  shift
  log "building $what ..."
  local n=0 line
  if ! (go build -v -trimpath "$@" 2>&1 | tee -a "$buildlog" | while IFS= read -r line; do
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

log "cold build into $out"
export CGO_ENABLED=0
# Its own module (not ../k8s) so adding the node does not change the control plane's cache key; it
# resolves to the same dependency versions, so the Go build cache shares the common packages.
(cd "$here/kube" && gobuild "kubelet, kube-proxy (k8s v$KV)" -ldflags "$ldk" -o "$tmp/bin/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
(cd "$here/containerd" && gobuild "containerd v$CONTAINERD_VERSION" \
  -tags "no_btrfs no_devmapper no_zfs" \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" -o "$tmp/bin/" \
  github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  github.com/containerd/containerd/v2/cmd/ctr)
# runc's nsexec is C, and seccomp needs libseccomp: cgo, linked statically so the binary carries both.
(cd "$here/runc" && CGO_ENABLED=1 gobuild "runc v$RUNC_VERSION" -tags "seccomp netgo osusergo urfave_cli_no_docs" \
  -ldflags "-s -w -X main.version=$RUNC_VERSION -extldflags -static" -o "$tmp/bin/runc" github.com/opencontainers/runc)
(cd "$here/cni" && gobuild "CNI plugins v$CNI_PLUGINS_VERSION" \
  -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$CNI_PLUGINS_VERSION" \
  -o "$tmp/cni/" github.com/containernetworking/plugins/plugins/main/bridge \
  github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/main/loopback github.com/containernetworking/plugins/plugins/meta/portmap)
(cd "$here/coredns" && gobuild "CoreDNS v$COREDNS_VERSION" -ldflags "-s -w" -o "$tmp/bin/coredns" .)
(cd "$here/pause" && gobuild pause -ldflags "-s -w" -o "$tmp/bin/pause" .)
(cd "$here/nsproxy" && gobuild nsproxy -ldflags "-s -w" -o "$tmp/bin/nsproxy" .)

# busybox-static: a shell, nc and nslookup for the images (unpacked, never installed on the host).
log "fetching busybox-static from Debian"
(
  cd "$tmp/busybox"
  apt-get download -q busybox-static >>"$buildlog" 2>&1 || {
    log "apt-get download busybox-static failed (run apt-get update?); see $buildlog"
    exit 1
  }
  deb="$(ls ./*.deb)"
  dpkg-deb -x "$deb" unpacked
  cp unpacked/bin/busybox ./busybox
  echo "busybox-static $(dpkg-deb -f "$deb" Version)" >version
  rm -rf unpacked "$deb"
)

for b in bin/kubelet bin/kube-proxy bin/containerd bin/containerd-shim-runc-v2 bin/ctr bin/runc bin/coredns bin/pause bin/nsproxy \
  cni/bridge cni/host-local cni/loopback cni/portmap busybox/busybox; do
  [ -x "$tmp/$b" ] || { log "missing $b after build"; exit 1; }
done
{
  echo "kubernetes v$KV"
  echo "containerd v$CONTAINERD_VERSION"
  echo "runc v$RUNC_VERSION"
  echo "cni-plugins v$CNI_PLUGINS_VERSION"
  echo "coredns v$COREDNS_VERSION"
  cat "$tmp/busybox/version"
} >"$tmp/VERSIONS"
echo "built in $((SECONDS - started)) s" >"$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
log "done in $((SECONDS - started)) s"
# Keep this build and the most recent other one; drop older ones.
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
echo "$out"
