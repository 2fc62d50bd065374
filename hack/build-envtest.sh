#!/usr/bin/env bash
# Builds the local control plane (etcd and kube-apiserver) from Go modules into $1, the way
# envtest expects it (KUBEBUILDER_ASSETS=$1). Nothing prebuilt is downloaded: the versions are
# pinned in hack/envtest/go.mod, the one place that names them. A finished build is reused
# until that go.mod changes.
set -euo pipefail

dest=${1:?usage: build-envtest.sh DEST_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mod=$here/envtest/go.mod
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$mod")
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2}' "$mod")
stamp=$dest/.built-from
want=$(sha256sum "$mod" | cut -d' ' -f1)

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if [[ -x $dest/kube-apiserver && -x $dest/etcd && -f $stamp && $(cat "$stamp") == "$want" ]]; then
	echo "control plane: kube-apiserver $k8s_version and etcd $etcd_version already built in $dest"
	exit 0
fi

echo "control plane: building kube-apiserver $k8s_version and etcd $etcd_version from source into $dest"
echo "control plane: the first build takes about 5 minutes on 2 cores (downloads included); later builds reuse the Go build cache"
start=$(date +%s)
cd "$here/envtest"
echo "control plane: [1/2] etcd $etcd_version"
go build -trimpath -o "$dest/etcd" go.etcd.io/etcd/server/v3
echo "control plane: [2/2] kube-apiserver $k8s_version ($(( $(date +%s) - start ))s so far)"
go build -trimpath -ldflags "-X k8s.io/component-base/version.gitVersion=$k8s_version" \
	-o "$dest/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
# envtest also looks for kubectl beside the binaries; use the machine's when it has one.
if [[ ! -e $dest/kubectl ]] && command -v kubectl >/dev/null 2>&1; then
	ln -s "$(command -v kubectl)" "$dest/kubectl"
fi
echo "$want" >"$stamp"
echo "control plane: built in $(( $(date +%s) - start ))s"
