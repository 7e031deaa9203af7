#!/usr/bin/env bash
# build-testenv.sh builds the control-plane binaries that the test environment
# (test/testenv) runs: kube-apiserver, kube-controller-manager and kube-scheduler
# from k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3, and kwok from
# sigs.k8s.io/kwok. Each comes from its own tools module under tools/, so the
# project's go.mod stays lean and each binary is built with the dependency set
# its release was tested with.
#
# Output: $TESTENV_BIN (default: bin/ at the repository root, git-ignored).
# A binary is rebuilt only when its tools module changed since the last build
# (the stamp file records the hash of go.mod/go.sum/sources), so a second run
# costs a few milliseconds. Cold, on 2 cores, the whole set takes ~10 minutes.
#
# Usage: hack/build-testenv.sh [k8s] [etcd] [kwok]     (default: all three)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${TESTENV_BIN:-$ROOT/bin}
mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)

what=("$@")
((${#what[@]})) || what=(k8s etcd kwok)

# stamp_of hashes a tools module's go.mod, go.sum and Go files (kwok has none).
stamp_of() { (cd "$ROOT/tools/$1" && cat go.mod go.sum $(find . -maxdepth 1 -name '*.go' | sort) | sha256sum | cut -c1-16); }
fresh() { # fresh <module> <binaries...>
  local m=$1 b; shift
  [[ -f $BIN/.stamp-$m && $(cat "$BIN/.stamp-$m") == "$(stamp_of "$m")" ]] || return 1
  for b in "$@"; do [[ -x $BIN/$b ]] || return 1; done
}
timed() { local s=$SECONDS; "$@"; echo "build-testenv: built in $((SECONDS - s))s" >&2; }

for w in "${what[@]}"; do
  case $w in
  k8s)
    fresh k8s kube-apiserver kube-controller-manager kube-scheduler && { echo "build-testenv: k8s up to date" >&2; continue; }
    echo "build-testenv: building kube-apiserver, kube-controller-manager, kube-scheduler (cold: ~8 min)" >&2
    # A plain 'go build' leaves /version at "v0.0.0-master+$Format:%H$" (not semver);
    # stamp the release the way hack/lib/version.sh does. -X is link-only.
    KV=$(cd "$ROOT/tools/k8s" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
    KM=${KV#v}; KMIN=${KM#*.}; KMIN=${KMIN%%.*}
    XF=""
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      XF+=" -X $pkg.gitVersion=$KV -X $pkg.gitMajor=${KM%%.*} -X $pkg.gitMinor=$KMIN"
      XF+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    (cd "$ROOT/tools/k8s" && timed go build -ldflags="-s -w$XF" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler)
    stamp_of k8s > "$BIN/.stamp-k8s" ;;
  etcd)
    fresh etcd etcd && { echo "build-testenv: etcd up to date" >&2; continue; }
    echo "build-testenv: building etcd (cold: ~1 min)" >&2
    (cd "$ROOT/tools/etcd" && timed go build -ldflags='-s -w' -o "$BIN/etcd" .)
    stamp_of etcd > "$BIN/.stamp-etcd" ;;
  kwok)
    fresh kwok kwok && { echo "build-testenv: kwok up to date" >&2; continue; }
    echo "build-testenv: building kwok (cold: ~2 min)" >&2
    (cd "$ROOT/tools/kwok" && timed go build -ldflags='-s -w' -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok)
    stamp_of kwok > "$BIN/.stamp-kwok" ;;
  *) echo "build-testenv: unknown target '$w' (want k8s, etcd or kwok)" >&2; exit 2 ;;
  esac
done
