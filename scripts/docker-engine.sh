#!/usr/bin/env bash
# A Docker engine for hub's container runtime and its tests, on a machine that may have none:
#   1. installs Debian's docker.io and debootstrap when dockerd is missing,
#   2. starts dockerd in the background on $DOCKER_HOST's unix socket (default
#      unix:///run/harness-hub/docker.sock) with its data root under the CI cache, so image layers
#      and BuildKit's pip cache survive between runs on the same machine,
#   3. builds the local base image hub-base:trixie (Debian minbase + python3 (3.13), venv, pip)
#      with debootstrap when it is missing: nothing is pulled from a registry,
#   4. with --build-harnesses[=name,...], removes containers left by crashed hub runs (`hub gc`)
#      and builds the harness images (all, or the named ones) FROM that base when they are missing
#      or stale (`hub harness build --if-needed`), then drops BuildKit's cache: the images are what
#      later runs reuse, and the cache would double the disk they take.
#      A failed build is reported and the script goes on: the Docker tests then fail with it.
# Idempotent: a running engine and existing images are reused. Prints what it does.
#
# Environment: DOCKER_HOST (unix:// only when the engine is to be started here), HUB_CI_CACHE,
# HUB_DEBIAN_SUITE (default trixie: its Python 3.13 satisfies every harness's minimum),
# HUB_DOCKER_BASE_IMAGE (the base image, default hub-base:$HUB_DEBIAN_SUITE; hub builds FROM it),
# HUB_DEBIAN_MIRROR (default: the Debian mirror apt is configured with).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${HUB_CI_CACHE:-$HOME/.cache/harness-hub-ci}"
DOCKER_DIR="$CACHE/docker"
export DOCKER_HOST="${DOCKER_HOST:-unix:///run/harness-hub/docker.sock}"
SUITE="${HUB_DEBIAN_SUITE:-trixie}"
BASE_IMAGE="${HUB_DOCKER_BASE_IMAGE:-hub-base:$SUITE}"
build_harnesses=false
harness_names=""
for arg in "$@"; do
  case "$arg" in
    --build-harnesses) build_harnesses=true ;;
    --build-harnesses=*) build_harnesses=true; harness_names="${arg#*=}" ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "docker-engine.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
say() { printf 'docker-engine: %s\n' "$*"; }
t0=$SECONDS

# The engine's CLI for the checks below; hub itself talks to the API through dockerode.
engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_up; then
  say "engine at $DOCKER_HOST is running (server $(docker version --format '{{.Server.Version}}'))"
else
  case "$DOCKER_HOST" in
    unix://*) sock="${DOCKER_HOST#unix://}" ;;
    *) say "no engine answers at DOCKER_HOST=$DOCKER_HOST, and only a unix:// socket can be started here" >&2; exit 1 ;;
  esac
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    say "installing docker.io and debootstrap (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
  fi
  run_dir="$(dirname "$sock")"
  mkdir -p "$DOCKER_DIR/data" "$run_dir"
  # A daemon of ours that died leaves its pid file; dockerd refuses to start while it names a
  # live process, so only a stale one is removed.
  pidfile="$run_dir/dockerd.pid"
  if [[ -f $pidfile ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
  say "starting dockerd on $DOCKER_HOST (data root $DOCKER_DIR/data, log $DOCKER_DIR/dockerd.log)"
  # --bridge=none: hub runs harnesses with host networking only, so no bridge or NAT rules are
  # needed. setsid and closed descriptors let the daemon outlive this script without holding
  # its caller's pipes open.
  setsid dockerd \
    --host "$DOCKER_HOST" \
    --data-root "$DOCKER_DIR/data" \
    --exec-root "$run_dir/exec" \
    --pidfile "$pidfile" \
    --bridge=none \
    --iptables=false \
    --ip-masq=false \
    >>"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    engine_up && break
    sleep 1
  done
  if ! engine_up; then
    say "dockerd did not answer within 60 s; last lines of its log:" >&2
    tail -n 30 "$DOCKER_DIR/dockerd.log" >&2
    exit 1
  fi
  say "engine up after $((SECONDS - t0)) s (server $(docker version --format '{{.Server.Version}}'))"
fi

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "base image $BASE_IMAGE exists"
else
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mirror="${HUB_DEBIAN_MIRROR:-}"
  if [[ -z $mirror ]]; then
    # The first plain Debian archive apt is configured with (deb822 or one-line format).
    mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')"
    [[ -n $mirror ]] || mirror="$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
    [[ -n $mirror ]] || mirror="http://deb.debian.org/debian"
  fi
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/hub-base-rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  say "building $BASE_IMAGE: debootstrap --variant=minbase $SUITE from $mirror (a few minutes)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates "$SUITE" "$rootfs" "$mirror" \
    >"$DOCKER_DIR/debootstrap.log" 2>&1 || { tail -n 30 "$DOCKER_DIR/debootstrap.log" >&2; exit 1; }
  # Certificate authorities this machine added (a TLS-inspecting proxy, a company CA) go into the
  # image too, or pip inside a build cannot reach the package index the host reaches.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    say "adding the host's local CA certificates: $(cd /usr/local/share/ca-certificates && echo *.crt)"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "$BASE_IMAGE imported after $((SECONDS - t0)) s ($(docker image inspect "$BASE_IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
fi

if $build_harnesses; then
  node bin/hub.js gc
  if [[ -n $harness_names ]]; then names="${harness_names//,/ }"; else names="$(node bin/hub.js harnesses list --names)"; fi
  for harness in $names; do
    say "hub harness build $harness --base-image $BASE_IMAGE"
    built=$SECONDS
    if node bin/hub.js harness build "$harness" --base-image "$BASE_IMAGE" --if-needed --quiet; then
      say "$harness image ready after $((SECONDS - built)) s"
    else
      say "WARNING: building the $harness image failed (above); its Docker tests will fail" >&2
    fi
  done
  say "BuildKit cache: $(docker builder prune -af 2>/dev/null | tail -n 1)"
fi
say "done after $((SECONDS - t0)) s"
