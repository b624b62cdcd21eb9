#!/usr/bin/env bash
# Regenerates test/cluster/k8s/go.mod + go.sum for KUBERNETES_VERSION in versions.env.
# Run by hand after changing the version (build.sh never does). k8s.io/kubernetes requires its
# staging modules at the fake version v0.0.0 and resolves them with local replaces, which a
# consumer does not inherit; so we replace each staging module by its published tag v0.X.Y,
# taking the list verbatim from the go.mod that the proxy serves for that release.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/versions.env"
KV="$KUBERNETES_VERSION"
SV="0.${KV#1.}"
cd "$here/k8s"
rm -f go.mod go.sum
go mod init langop.local/testcluster/k8s >&2
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
upstream="$(cd "$tmp" && go mod download -json "k8s.io/kubernetes@v$KV" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
go mod edit -go="$(sed -n 's/^go \(.*\)$/\1/p' "$upstream")"
godebug="$(sed -n 's/^godebug \(.*\)$/\1/p' "$upstream")"
[ -z "$godebug" ] || go mod edit -godebug="$godebug"
for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$upstream"); do
  go mod edit -replace="$m=$m@v$SV"
done
go mod edit -require="k8s.io/kubernetes@v$KV"
# etcd at exactly the version k8s pins (read from upstream go.mod, not MVS-upgraded).
ETCDV="$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 \(v[^ ]*\).*#\1#p' "$upstream")"
go mod edit -require="go.etcd.io/etcd/server/v3@$ETCDV"
for t in go.etcd.io/etcd/server/v3 k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl; do
  go mod edit -tool="$t"
done
go mod tidy >&2
echo "k8s go.mod regenerated for v$KV (etcd $ETCDV)" >&2
