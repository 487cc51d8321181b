#!/usr/bin/env bash
# DRAFT (build part only)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${HUB_CI_CACHE:-$HOME/.cache/harness-hub-ci}"
KDIR="$CACHE/kube"
K8S_VERSION="${HUB_KUBE_VERSION:-v1.34.4}"
GO="${HUB_GO:-$(command -v go || echo /usr/local/go/bin/go)}"
BIN="$KDIR/bin/$K8S_VERSION"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

say() { printf 'kube-cluster: %s\n' "$*"; }
die() { printf 'kube-cluster: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS
step_t=$SECONDS
step() { step_t=$SECONDS; say "$*"; }
took() { say "$* ($((SECONDS - step_t)) s)"; }

binaries_ok() {
  [[ -f $BIN/.complete ]] || return 1
  local c
  for c in "${COMPONENTS[@]}"; do [[ -x $BIN/$c ]] || return 1; done
}

build_kube() {
  binaries_ok && return 0
  [[ -x $GO ]] || die "no Go toolchain (set HUB_GO): the Kubernetes binaries are built from source"
  step "building Kubernetes $K8S_VERSION (${COMPONENTS[*]}) with $("$GO" env GOVERSION), niced; about 10 min on 2 cores, log $KDIR/build.log"
  local src="$KDIR/go/src/$K8S_VERSION" gomod minor
  mkdir -p "$src" "$KDIR/go/mod"
  export GOMODCACHE="$KDIR/go/mod" GOCACHE="$KDIR/go/build" GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
  : >"$KDIR/build.log"
  gomod="$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$KDIR/build.log" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f $gomod ]] || { tail -n 20 "$KDIR/build.log" >&2; die "could not fetch k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"; }
  # k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with
  # local paths, which `go install pkg@version` refuses; a wrapper module pins each of them to the
  # published v0.X.Y that matches v1.X.Y instead.
  local staging_version="v0.${K8S_VERSION#v1.}" m
  # Only those it requires (at v0.0.0): some (k8s.io/sample-*) are not on the proxy at all.
  mapfile -t staging < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { s[$1] = 1 } $2 == "v0.0.0" { r[$1] = 1 }
    END { for (m in s) if (m in r) print m }' "$gomod" | sort)
  ((${#staging[@]} > 10)) || die "unexpected go.mod of k8s.io/kubernetes@$K8S_VERSION ($gomod)"
  {
    echo "module harness-hub/kube-build"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    for m in "${staging[@]}"; do echo "require $m $staging_version"; done
    for m in "${staging[@]}"; do echo "replace $m => $m $staging_version"; done
  } >"$src/go.mod"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  rm -rf "$BIN.tmp" && mkdir -p "$BIN.tmp"
  local pkgs=()
  for m in "${COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$m"); done
  if ! (cd "$src" && nice -n 10 "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN.tmp/" "${pkgs[@]}") >>"$KDIR/build.log" 2>&1; then
    tail -n 30 "$KDIR/build.log" >&2
    die "building Kubernetes failed (log $KDIR/build.log)"
  fi
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN" && touch "$BIN/.complete"
  # The build cache (about 3 GB) is only needed to rebuild; the module cache stays for that.
  rm -rf "$GOCACHE"
  took "built $(cd "$BIN" && "$BIN/kube-apiserver" --version), $(du -sh "$BIN" | cut -f1)"
}

case "${1:-}" in
  build) build_kube ;;
esac
