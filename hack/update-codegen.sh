#!/usr/bin/env bash
# update-codegen.sh regenerates everything derived from pkg/apis: DeepCopy and
# CRDs (controller-gen) and the typed clientset, listers and informers
# (k8s.io/code-generator). The generators are pinned in tools/codegen.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GEN=$ROOT/bin/codegen
mkdir -p "$GEN"
(cd tools/codegen && go build -o "$GEN/" sigs.k8s.io/controller-tools/cmd/controller-gen \
  k8s.io/code-generator/cmd/client-gen k8s.io/code-generator/cmd/lister-gen k8s.io/code-generator/cmd/informer-gen)

MOD=github.com/tether-io/tether
APIS=(cluster/v1alpha1 config/v1alpha1 policy/v1alpha1 work/v1alpha1)
PKGS=("${APIS[@]/#/$MOD/pkg/apis/}")
HEADER=hack/boilerplate.go.txt

"$GEN/controller-gen" object:headerFile="$HEADER" paths=./pkg/apis/...
rm -f deploy/crds/*.yaml
"$GEN/controller-gen" crd:crdVersions=v1 paths=./pkg/apis/... output:crd:artifacts:config=deploy/crds

rm -rf pkg/generated
"$GEN/client-gen" --go-header-file "$HEADER" --clientset-name versioned \
  --input-base "$MOD/pkg/apis" --input "$(IFS=,; echo "${APIS[*]}")" \
  --output-dir pkg/generated/clientset --output-pkg "$MOD/pkg/generated/clientset"
"$GEN/lister-gen" --go-header-file "$HEADER" \
  --output-dir pkg/generated/listers --output-pkg "$MOD/pkg/generated/listers" "${PKGS[@]}"
"$GEN/informer-gen" --go-header-file "$HEADER" \
  --versioned-clientset-package "$MOD/pkg/generated/clientset/versioned" \
  --listers-package "$MOD/pkg/generated/listers" \
  --output-dir pkg/generated/informers --output-pkg "$MOD/pkg/generated/informers" "${PKGS[@]}"
