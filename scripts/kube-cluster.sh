#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for hub's Kubernetes runtime and its tests,
# with nothing pulled from a container registry:
#   up              builds (once, about 10 min on 2 cores) kube-apiserver, kube-controller-manager,
#                   kube-scheduler and kubelet from k8s.io/kubernetes on the Go module proxy; fetches
#                   etcd, containerd, runc and the CNI plugins from Debian (apt-get download, unpacked
#                   into the cache: nothing is installed or started system-wide); generates a CA,
#                   certificates and an admin kubeconfig; starts every component in the background
#                   (logs in $CACHE/kube/logs) and waits until the node is Ready and the default
#                   service account exists. Prints `export KUBECONFIG=...`. Idempotent: running
#                   components are kept, dead ones are restarted.
#   import ARG...   loads images into the cluster's containerd (namespace k8s.io): an ARG that is a
#                   file is an image tarball (docker save / OCI layout, may be .gz or .zst), any other
#                   ARG an image in the local Docker engine ($DOCKER_HOST). Pods must use them with
#                   imagePullPolicy: Never (or IfNotPresent with a non-latest tag).
#   down            stops everything, restores the sysctls kubelet changed, unmounts and removes what
#                   kubelet and containerd made (pod mounts, kubepods cgroups, /var/log/containers
#                   links, the CNI bridge) and the cluster's state (etcd data: the next `up` starts an
#                   empty cluster). Keeps the binaries, the certificates and the imported images.
#   status          says whether the cluster is up and where its kubeconfig is (exit 0 if up, 1 if not).
#   build           only builds or fetches what `up` needs (the binaries, packages, pause image).
# The cluster: one node named `localhost`, API at https://127.0.0.1:${HUB_KUBE_API_PORT:-6443}, no
# kube-proxy or cluster DNS (Services do not route): pods that talk to the host use hostNetwork and
# 127.0.0.1. Its containerd has its own socket, root and state, apart from Docker's.
#
# Environment: HUB_CI_CACHE (default ~/.cache/harness-hub-ci), HUB_KUBE_VERSION (default v1.34.4),
# HUB_KUBE_API_PORT (default 6443), HUB_GO (the Go toolchain; default go on PATH or /usr/local/go),
# DOCKER_HOST (for import).
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."

CACHE="${HUB_CI_CACHE:-$HOME/.cache/harness-hub-ci}"
KDIR="$CACHE/kube"
K8S_VERSION="${HUB_KUBE_VERSION:-v1.34.4}"
API_PORT="${HUB_KUBE_API_PORT:-6443}"
API="https://127.0.0.1:$API_PORT"
GO="${HUB_GO:-$(command -v go || echo /usr/local/go/bin/go)}"
BIN="$KDIR/bin/$K8S_VERSION"         # the Kubernetes binaries, by version
DEBS="$KDIR/debs"                    # Debian packages, unpacked into $DEBS/root
PKGROOT="$DEBS/root"
CONF="$KDIR/run"                     # certificates, kubeconfigs, component configs (kept)
PKI="$CONF/pki"
KUBECONFIG_PATH="$CONF/kubeconfig"   # the admin kubeconfig (client certificate, cluster-admin)
STATE="$KDIR/state"                  # etcd data, kubelet root, pod logs (wiped by down), images (kept)
LOGS="$KDIR/logs"
RUNDIR=/run/harness-hub/kube         # sockets, pid files, containerd state, runc state
SOCK="$RUNDIR/containerd.sock"
NODE=localhost
ETCD_PORT=12379                      # not 2379, to stay out of any other etcd's way
PAUSE_IMAGE=registry.k8s.io/pause:3.10
BRIDGE=hubkube0
POD_SUBNET=10.244.0.0/24
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
DEB_PACKAGES=(etcd-server containerd runc containernetworking-plugins)
# What kubelet sets on the host (pkg/kubelet/cm setupKernelTunables); `down` puts them back.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

ETCD="$PKGROOT/usr/bin/etcd"
CONTAINERD="$PKGROOT/usr/bin/containerd"
CTR="$PKGROOT/usr/bin/ctr"
RUNC="$PKGROOT/usr/sbin/runc"

say() { printf 'kube-cluster: %s\n' "$*"; }
die() { printf 'kube-cluster: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS
step_t=$SECONDS
step() { step_t=$SECONDS; say "$*"; }
took() { say "$* ($((SECONDS - step_t)) s)"; }
usage() { sed -n '2,28p' "$SELF"; }

# ---------------------------------------------------------------------------------------------
# Binaries

binaries_ok() {
  [[ -f $BIN/.complete ]] || return 1
  local c
  for c in "${COMPONENTS[@]}"; do [[ -x $BIN/$c ]] || return 1; done
}

build_kube() {
  binaries_ok && return 0
  [[ -x $GO ]] || die "no Go toolchain (set HUB_GO): the Kubernetes binaries are built from source"
  step "building Kubernetes $K8S_VERSION (${COMPONENTS[*]}) with $("$GO" env GOVERSION), niced: about 10 min on 2 cores (log $KDIR/build.log)"
  local src="$KDIR/go/src/$K8S_VERSION" gomod minor m pkg
  mkdir -p "$src" "$KDIR/go/mod"
  export GOMODCACHE="$KDIR/go/mod" GOCACHE="$KDIR/go/build" GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
  : >"$KDIR/build.log"
  gomod="$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$KDIR/build.log" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f $gomod ]] || { tail -n 20 "$KDIR/build.log" >&2; die "could not fetch k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"; }
  # k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with local
  # paths, which `go install pkg@version` refuses: a wrapper module pins each one it requires to the
  # published v0.X.Y matching v1.X.Y (some, k8s.io/sample-*, are not on the proxy and not required).
  local staging_version="v0.${K8S_VERSION#v1.}"
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
  # Without the version stamp the node reports v0.0.0.
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  local pkgs=()
  for m in "${COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$m"); done
  rm -rf "$BIN.tmp" && mkdir -p "$BIN.tmp"
  if ! (cd "$src" && nice -n 10 "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN.tmp/" "${pkgs[@]}") >>"$KDIR/build.log" 2>&1; then
    tail -n 30 "$KDIR/build.log" >&2
    die "building Kubernetes failed (log $KDIR/build.log)"
  fi
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN" && touch "$BIN/.complete"
  # The build cache (about 3 GB) only speeds up a rebuild; the module cache stays for one.
  rm -rf "$GOCACHE"
  took "built $("$BIN/kube-apiserver" --version) ($(du -sh "$BIN" | cut -f1))"
}

fetch_debs() {
  local want have
  want="$(printf '%s\n' "${DEB_PACKAGES[@]}")"
  have="$(cat "$PKGROOT/.complete" 2>/dev/null || true)"
  [[ $have == "$want" && -x $ETCD && -x $CONTAINERD && -x $RUNC ]] && return 0
  step "fetching ${DEB_PACKAGES[*]} from Debian (apt-get download, unpacked into $PKGROOT)"
  rm -rf "$DEBS" && mkdir -p "$DEBS/dl"
  if ! (cd "$DEBS/dl" && apt-get download -qq "${DEB_PACKAGES[@]}") >"$DEBS/apt.log" 2>&1; then
    apt-get update -qq >>"$DEBS/apt.log" 2>&1 || true
    (cd "$DEBS/dl" && apt-get download -qq "${DEB_PACKAGES[@]}") >>"$DEBS/apt.log" 2>&1 || { cat "$DEBS/apt.log" >&2; die "apt-get download failed"; }
  fi
  local deb
  for deb in "$DEBS"/dl/*.deb; do dpkg -x "$deb" "$PKGROOT"; done
  (cd "$DEBS/dl" && ls) >"$DEBS/versions"
  rm -rf "$DEBS/dl"
  printf '%s\n' "$want" >"$PKGROOT/.complete"
  took "unpacked $(paste -sd' ' "$DEBS/versions")"
}

# image_tar ROOTFS TAG OUT ENTRYPOINT: a one-layer image as a `docker save` archive, which
# `ctr images import` reads.
image_tar() {
  local rootfs=$1 tag=$2 out=$3 entrypoint=$4 tmp layer_sha config_sha
  tmp="$(mktemp -d)"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$tmp/layer.tar" .
  layer_sha="$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$entrypoint" "$layer_sha" >"$tmp/config.json"
  config_sha="$(sha256sum "$tmp/config.json" | cut -d' ' -f1)"
  mv "$tmp/config.json" "$tmp/$config_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config_sha" "$tag" >"$tmp/manifest.json"
  tar -C "$tmp" -cf "$out" manifest.json "$config_sha.json" layer.tar
  rm -rf "$tmp"
}

# The pod sandbox image cannot be pulled either: a static `pause` (sleeps, reaps, exits on TERM).
build_pause() {
  local out="$KDIR/pause/pause.tar"
  [[ -f $out ]] && return 0
  step "building the pod sandbox image $PAUSE_IMAGE (a static pause binary)"
  local dir="$KDIR/pause"
  rm -rf "$dir" && mkdir -p "$dir/rootfs"
  if command -v gcc >/dev/null; then
    cat >"$dir/pause.c" <<'EOF'
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void down(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, down);
  signal(SIGTERM, down);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
EOF
    gcc -static -Os -s -o "$dir/rootfs/pause" "$dir/pause.c" || die "gcc -static failed for pause"
  else
    mkdir -p "$dir/go"
    cat >"$dir/go/main.go" <<'EOF'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range c {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			if pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); pid <= 0 {
				break
			}
		}
	}
}
EOF
    printf 'module pause\n\ngo 1.22\n' >"$dir/go/go.mod"
    (cd "$dir/go" && CGO_ENABLED=0 GOTOOLCHAIN=local "$GO" build -trimpath -ldflags "-s -w" -o "$dir/rootfs/pause" .) || die "go build failed for pause"
  fi
  image_tar "$dir/rootfs" "$PAUSE_IMAGE" "$out.tmp" /pause
  mv "$out.tmp" "$out"
  took "pause image ready"
}

# ---------------------------------------------------------------------------------------------
# Certificates and configuration

issue() { # NAME CN ORG EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
  local name=$1 cn=$2 org=$3 eku=$4 sans=${5:-} subj
  subj="/CN=$cn"; [[ -n $org ]] && subj="/O=$org$subj"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    if [[ -n $sans ]]; then echo "subjectAltName=$sans"; fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

kubeconfig() { # FILE CERT_NAME USER
  local file=$1 cert=$2 user=$3
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: harness-hub
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 "$PKI/$cert.key")
contexts:
- name: harness-hub
  context:
    cluster: harness-hub
    user: $user
current-context: harness-hub
EOF
  chmod 600 "$file.tmp" && mv "$file.tmp" "$file"
}

make_pki() {
  if [[ ! -f $PKI/.complete ]]; then
    step "generating the cluster CA and certificates ($PKI)"
    rm -rf "$PKI" && mkdir -p "$PKI" && chmod 700 "$PKI"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=harness-hub-kube-ca" -days 3650 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
    issue apiserver kube-apiserver "" serverAuth \
      "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
    issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth
    issue admin harness-hub-admin system:masters clientAuth
    issue controller-manager system:kube-controller-manager "" clientAuth
    issue scheduler system:kube-scheduler "" clientAuth
    issue kubelet-client "system:node:$NODE" system:nodes clientAuth
    issue kubelet-serving "$NODE" "" serverAuth "DNS:$NODE,IP:127.0.0.1"
    # Service account tokens: the apiserver signs them, the controller manager too (legacy).
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    chmod 600 "$PKI"/*.key
    touch "$PKI/.complete"
    took "certificates ready"
  fi
  # The kubeconfigs follow the API port.
  kubeconfig "$KUBECONFIG_PATH" admin harness-hub-admin
  kubeconfig "$CONF/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  kubeconfig "$CONF/scheduler.kubeconfig" scheduler system:kube-scheduler
  kubeconfig "$CONF/kubelet.kubeconfig" kubelet-client "system:node:$NODE"
}

write_configs() {
  mkdir -p "$STATE/cni/net.d" "$STATE/pod-logs" "$STATE/kubelet"
  cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUNDIR/containerd"
required_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$RUNC"
        Root = "$RUNDIR/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$PKGROOT/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1
EOF
  # Pods without hostNetwork get an address on a bridge with no gateway, no masquerade and no
  # route from the host: nothing in iptables, no ip_forward.
  cat >"$STATE/cni/net.d/10-harness-hub.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "harness-hub",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_SUBNET" }]], "dataDir": "$STATE/cni/ipam" }
    }
  ]
}
EOF
  cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
makeIPTablesUtilChains: false
podLogsDir: $STATE/pod-logs
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
# Imported images cannot be pulled again: no image garbage collection, and eviction only when
# the disk is really full.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  nodefs.inodesFree: 2%
  imagefs.available: 2%
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes

pid_of() { cat "$RUNDIR/$1.pid" 2>/dev/null || true; }
alive() { # NAME BINARY
  local pid
  pid="$(pid_of "$1")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$2")" ]]
}
bin_of() {
  case $1 in
    etcd) echo "$ETCD" ;;
    containerd) echo "$CONTAINERD" ;;
    *) echo "$BIN/$1" ;;
  esac
}
ALL=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

# start NAME ARGS...: in the background, in its own session, with its log in $LOGS/NAME.log. A
# running one is kept. Never niced: containers inherit the niceness of kubelet and containerd, so
# a niced caller's niceness is undone here.
start() {
  local name=$1 bin
  shift
  bin="$(bin_of "$name")"
  if alive "$name" "$bin"; then
    say "$name is running (pid $(pid_of "$name"))"
    return 0
  fi
  if [[ -f $LOGS/$name.log ]]; then mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"; fi
  local prefix=() n
  n="$(nice)"
  if ((n > 0)); then prefix=(nice -n "-$n"); fi
  PATH="$PKGROOT/usr/bin:$PKGROOT/usr/sbin:$PATH" setsid "${prefix[@]}" "$bin" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUNDIR/$name.pid"
}

stop() { # NAME...: SIGTERM to all of them together, SIGKILL to any still there after 15 s
  local name pid i
  local -A pids=()
  for name in "$@"; do
    if alive "$name" "$(bin_of "$name")"; then
      pids[$name]="$(pid_of "$name")"
      kill -TERM "${pids[$name]}" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 150; i++)); do
    for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null || unset "pids[$name]"; done
    ((${#pids[@]} == 0)) && break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    say "$name did not stop within 15 s: killing it"
    kill -KILL "${pids[$name]}" 2>/dev/null || true
    sleep 0.2
  done
  for name in "$@"; do rm -f "$RUNDIR/$name.pid"; done
}

fail() { # MESSAGE NAME...: the message, the log tails of the named components, exit 1
  local msg=$1 name
  shift
  for name in "$@"; do
    [[ -f $LOGS/$name.log ]] || continue
    printf '\n--- last lines of %s ---\n' "$LOGS/$name.log" >&2
    tail -n 25 "$LOGS/$name.log" >&2
  done
  echo >&2
  die "$msg (logs in $LOGS; \`$0 down\` cleans up)"
}

# wait_for SECONDS DESCRIPTION NAMES CMD...: polls CMD until it succeeds; fails early when one of
# the components NAMES (space-separated) died, and with their log tails on timeout.
wait_for() {
  local secs=$1 what=$2 names deadline name
  read -ra names <<<"$3"
  shift 3
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    for name in "${names[@]}"; do
      alive "$name" "$(bin_of "$name")" || fail "$name exited while waiting for $what" "${names[@]}"
    done
    ((SECONDS < deadline)) || fail "$what: not within $secs s" "${names[@]}"
    sleep 0.5
  done
}

CTR_TIMEOUT=60
ctr_() { timeout "$CTR_TIMEOUT" "$CTR" --address "$SOCK" -n k8s.io "$@"; }
api() { curl -sS --max-time 10 -A kube-cluster.sh --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }
etcd_healthy() { curl -sS --max-time 5 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
api_ready() { [[ "$(api "$API/readyz")" == ok ]]; }
containerd_up() { ctr_ version; }
# Ready as the API says it, from a kubelet that answers now (a restarted kubelet's node keeps the
# Ready of the old one for a while).
node_ready() {
  [[ "$(curl -sS --max-time 5 http://127.0.0.1:10248/healthz)" == ok ]] &&
    api "$API/api/v1/nodes/$NODE" | grep -q '"type":"Ready","status":"True"'
}
default_sa() {
  [[ "$(api -o /dev/null -w '%{http_code}' "$API/api/v1/namespaces/default/serviceaccounts/default")" == 200 ]] &&
    [[ "$(api -o /dev/null -w '%{http_code}' "$API/api/v1/namespaces/default/configmaps/kube-root-ca.crt")" == 200 ]]
}
all_alive() {
  local name
  for name in "${ALL[@]}"; do alive "$name" "$(bin_of "$name")" || return 1; done
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  [[ $(id -u) == 0 ]] || die "must run as root (kubelet and containerd manage mounts and cgroups)"
  for tool in curl openssl setsid; do command -v "$tool" >/dev/null || die "$tool is missing"; done
  if all_alive && node_ready && default_sa; then
    say "cluster is up (node $NODE Ready, API $API)"
    echo "export KUBECONFIG=$KUBECONFIG_PATH"
    return 0
  fi
  build_kube
  fetch_debs
  build_pause
  mkdir -p "$CONF" "$STATE" "$LOGS" "$RUNDIR"
  make_pki
  write_configs
  local up_t=$SECONDS
  step "starting the cluster (logs in $LOGS)"
  # kubelet changes some host sysctls: what they were is kept for `down` (once: a second `up`
  # while kubelet runs must not record its values).
  if [[ ! -f $RUNDIR/sysctl.saved ]]; then
    local key
    for key in "${SYSCTLS[@]}"; do echo "$key=$(sysctl -n "$key" 2>/dev/null || echo '?')"; done >"$RUNDIR/sysctl.saved"
  fi
  [[ -e $RUNDIR/varlog-containers.existed || -e $RUNDIR/varlog-containers.created ]] ||
    if [[ -d /var/log/containers ]]; then touch "$RUNDIR/varlog-containers.existed"; else touch "$RUNDIR/varlog-containers.created"; fi

  start etcd --name harness-hub --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "harness-hub=http://127.0.0.1:$((ETCD_PORT + 1))" \
    --quota-backend-bytes 2147483648 --logger zap --log-level warn
  start containerd --config "$CONF/containerd.toml"
  wait_for 30 "etcd health" etcd etcd_healthy

  start kube-apiserver \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --cert-dir "$RUNDIR/apiserver" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types Hostname \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --endpoint-reconciler-type none \
    --profiling=false

  wait_for 30 "containerd" containerd containerd_up
  if ! ctr_ images ls -q | grep -qxF "$PAUSE_IMAGE"; then
    ctr_ images import "$KDIR/pause/pause.tar" >/dev/null || fail "importing $PAUSE_IMAGE failed" containerd
  fi
  wait_for 60 "the API server" "etcd kube-apiserver" api_ready

  start kube-controller-manager \
    --kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$CONF/controller-manager.kubeconfig" --authorization-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --cert-dir "$RUNDIR/controller-manager" \
    --leader-elect=false \
    --controllers '*' \
    --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --profiling=false
  start kube-scheduler \
    --kubeconfig "$CONF/scheduler.kubeconfig" \
    --authentication-kubeconfig "$CONF/scheduler.kubeconfig" --authorization-kubeconfig "$CONF/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
  start kubelet \
    --config "$CONF/kubelet.yaml" \
    --kubeconfig "$CONF/kubelet.kubeconfig" \
    --hostname-override "$NODE" \
    --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet/pki"

  local everything="etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet"
  wait_for 120 "node $NODE Ready" "$everything" node_ready
  wait_for 60 "the default service account" "$everything" default_sa
  say "cluster up: node $NODE Ready, API $API, $("$BIN/kubelet" --version) ($((SECONDS - up_t)) s to Ready, $((SECONDS - t0)) s in all)"
  echo "export KUBECONFIG=$KUBECONFIG_PATH"
}

cmd_import() {
  (($# > 0)) || die "usage: $0 import IMAGE|TARBALL..."
  containerd_up >/dev/null 2>&1 || die "the cluster's containerd is not running (\`$0 up\` first)"
  local arg
  CTR_TIMEOUT=3600
  for arg in "$@"; do
    step "importing $arg"
    if [[ -f $arg ]]; then
      case $arg in
        *.gz | *.tgz) gzip -dc "$arg" | ctr_ images import - ;;
        *.zst) zstd -dcq "$arg" | ctr_ images import - ;;
        *) ctr_ images import "$arg" ;;
      esac
    else
      command -v docker >/dev/null || die "no docker CLI to export $arg from (pass a tarball instead)"
      local id marker
      id=$(docker image inspect --format '{{.Id}}' "$arg" 2>/dev/null) || die "image $arg is not in the Docker engine at ${DOCKER_HOST:-the default socket}"
      # The same image (by Docker id) already imported and still in containerd: nothing to do.
      marker="$KDIR/imported/$(printf '%s' "$arg" | tr '/:' '__')"
      if [[ -f $marker && $(cat "$marker") == "$id" ]] && ctr_ images ls -q 2>/dev/null | grep -qx "docker.io/$( [[ $arg == */* ]] && echo "$arg" || echo "library/$arg")"; then
        took "$arg already imported (${id:7:12})"
        continue
      fi
      docker save "$arg" | ctr_ images import - && mkdir -p "$KDIR/imported" && printf '%s' "$id" >"$marker"
    fi >"$RUNDIR/import.log" 2>&1 || { cat "$RUNDIR/import.log" >&2; die "importing $arg failed"; }
    took "imported $(grep -o '^unpacking [^ ]*' "$RUNDIR/import.log" | cut -d' ' -f2 | paste -sd' ')"
  done
}

cmd_status() {
  local name state=up
  for name in "${ALL[@]}"; do
    if alive "$name" "$(bin_of "$name")"; then
      say "$name: running (pid $(pid_of "$name"))"
    else
      say "$name: not running"
      state=down
    fi
  done
  if [[ $state == up ]] && ! node_ready; then state="not ready (node $NODE is not Ready)"; fi
  say "cluster: $state; API $API; kubeconfig $KUBECONFIG_PATH"
  [[ $state == up ]] && echo "export KUBECONFIG=$KUBECONFIG_PATH"
  [[ $state == up ]]
}

# umount_under DIR: every mount at or below DIR, deepest first.
umount_under() {
  local base=$1 m
  for _ in 1 2 3; do
    mapfile -t mounts < <(awk -v b="$base" '$5 == b || index($5, b "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    ((${#mounts[@]} == 0)) && return 0
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
  awk -v b="$base" '$5 == b || index($5, b "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo && return 1
  return 0
}

cmd_down() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  step "stopping the cluster"
  stop kube-scheduler kube-controller-manager kubelet

  # The containers: killed and removed through containerd (kubelet is gone), which lets their
  # shims exit and remove their sockets from /run/containerd/s (shared with any other containerd
  # 1.6 on the machine, Docker's included: only this cluster's are ever touched).
  local shim_sockets=()
  mapfile -t shim_sockets < <(cat "$RUNDIR"/containerd/io.containerd.runtime.v2.task/*/*/address 2>/dev/null | sed 's|^unix://||' | sort -u)
  if alive containerd "$CONTAINERD" && containerd_up >/dev/null 2>&1; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null || true); do
      ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
      ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctr_ containers ls -q 2>/dev/null || true); do
      ctr_ containers rm "$id" >/dev/null 2>&1 || true
    done
  fi
  stop kube-apiserver etcd containerd

  # Shims of ours that outlived containerd, then whatever still runs in kubelet's cgroups.
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  local cg pids=()
  for cg in /sys/fs/cgroup/*/kubepods; do
    if [[ -d $cg ]]; then mapfile -t -O "${#pids[@]}" pids < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); fi
  done
  if ((${#pids[@]} > 0)); then kill -KILL "${pids[@]}" 2>/dev/null || true; sleep 0.5; fi
  local s
  for s in "${shim_sockets[@]}"; do
    if [[ $s == /run/containerd/s/* && -S $s ]]; then rm -f "$s"; fi
  done

  # Mounts (pod volumes, kubelet's shared bind mount of its root, container root filesystems,
  # sandbox netns and shm), then the kubepods cgroups, pod log links, the bridge, the sysctls.
  local kept=()
  umount_under "$STATE/kubelet" || kept+=("$STATE/kubelet")
  umount_under "$RUNDIR" || kept+=("$RUNDIR")
  umount_under "$STATE/containerd" || kept+=("$STATE/containerd")
  for cg in /sys/fs/cgroup/*/kubepods; do
    if [[ -d $cg ]]; then find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$STATE/pod-logs/*" -delete 2>/dev/null || true
    if [[ -e $RUNDIR/varlog-containers.created ]]; then rmdir /var/log/containers 2>/dev/null || true; fi
  fi
  ip link del "$BRIDGE" >/dev/null 2>&1 || true
  if [[ -f $RUNDIR/sysctl.saved ]]; then
    local line key value
    while IFS= read -r line; do
      key="${line%%=*}" value="${line#*=}"
      if [[ $value == '?' ]]; then continue; fi
      [[ "$(sysctl -n "$key" 2>/dev/null)" == "$value" ]] || sysctl -q -w "$key=$value" >/dev/null 2>&1 || say "could not restore $key=$value"
    done <"$RUNDIR/sysctl.saved"
  fi

  # State: etcd data, kubelet root, pod logs, CNI leases, runtime dirs. Never through a mount
  # that could not be removed (a bind mount could lead out into the host's files).
  local dir
  for dir in "$STATE/etcd" "$STATE/kubelet" "$STATE/pod-logs" "$STATE/cni" "$RUNDIR"; do
    if [[ " ${kept[*]} " == *" $dir "* ]]; then
      say "WARNING: mounts remain under $dir; not removing it" >&2
    else
      rm -rf --one-file-system "$dir"
    fi
  done
  if ((${#kept[@]} > 0)); then say "down, but with mounts left under: ${kept[*]}" >&2; return 1; fi
  took "cluster down (binaries, certificates and imported images kept in $KDIR)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  import) shift; cmd_import "$@" ;;
  build) build_kube; fetch_debs; build_pause ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
