#!/usr/bin/env bash
# Builds the unchanged Dockerfile and runs the image for real against the Zoom simulator
# (scripts/imageRun.ts does the checks). Needs root on Debian and `npm ci` done; `.ci/run`
# calls it. The Dockerfile's base image is pulled; without a reachable image registry it is
# replaced by a local stand-in built the same way: a minimal Debian root (debootstrap), the Node release the
# project pins (the `node` devDependency's binary), npm from the npm registry, user `node`
# (uid 1000), an entrypoint that execs its arguments.
#
#   bash scripts/imageCheck.sh            # or: npm run image:check
#   IMAGE_CHECK_KEEP=1                    # keep the built image and volume afterwards
set -euo pipefail
cd "$(dirname "$0")/.."

# npm bundled with Node 24.21.0 (its changelog: "upgrade npm to 11.19.0").
STANDIN_NPM_VERSION=11.19.0
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=rtms-connector:image-check

started=$SECONDS
step_started=$SECONDS
step() {
  echo "image-check: $1 ($((SECONDS - step_started)) s)"
  step_started=$SECONDS
}
fail() {
  echo "image-check: FAILED: $*" >&2
  exit 1
}

work=$(mktemp -d /tmp/rtms-image-check.XXXXXX)
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ── a Docker engine: Debian's docker.io, started here when none runs ──────────────────────
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no Docker engine answers, and starting one needs root"
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    dockerd >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 1 120); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$dockerd_pid" 2>/dev/null || { cat "$work/dockerd.log"; fail "dockerd exited"; }
      sleep 0.5
    done
    docker info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log"; fail "dockerd not answering within 60 s"; }
  fi
fi
step "docker engine $(docker version --format '{{.Server.Version}}') ready"

# ── the base image: the Dockerfile's, or a local stand-in of it ───────────────────────────
node_version=$(sed -n 's/^ARG NODE_VERSION=\(.*\)$/\1/p' Dockerfile)
pinned_node=$(node -p "require('./package.json').devDependencies.node")
[ "$node_version" = "$pinned_node" ] \
  || fail "Dockerfile NODE_VERSION $node_version differs from package.json's node devDependency $pinned_node"
base=$(sed -n 's/^FROM \(node:[^ ]*\) AS runtime$/\1/p' Dockerfile)
base=${base//'${NODE_VERSION}'/$node_version}
[ -n "$base" ] || fail "no 'FROM node:… AS runtime' in the Dockerfile"

if docker image inspect "$base" >/dev/null 2>&1; then
  step "base $base present ($(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.description"}}' "$base"))"
elif timeout 300 docker pull -q "$base" >"$work/pull.log" 2>&1; then
  step "base $base pulled from the registry"
else
  echo "image-check: no registry ($(tail -1 "$work/pull.log")): building a local stand-in for $base"
  command -v debootstrap >/dev/null 2>&1 || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  node_bin=node_modules/node/bin/node
  [ -x "$node_bin" ] || fail "$node_bin missing: run npm ci first"
  [ "$("$node_bin" --version)" = "v$node_version" ] || fail "$node_bin is not Node $node_version"
  root="$work/base-root"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; fail "debootstrap $DEBIAN_SUITE"; }
  install -m 0755 "$node_bin" "$root/usr/local/bin/node"
  (cd "$work" && npm pack --silent "npm@$STANDIN_NPM_VERSION" >/dev/null)
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$STANDIN_NPM_VERSION.tgz" --strip-components=1 -C "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # Like the official image's entrypoint: `docker run image -e …` runs node; anything else is exec'd.
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
case "${1:-}" in
  -*) set -- node "$@" ;;
esac
exec "$@"
ENTRYPOINT
  chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
  # A machine whose egress goes through a TLS proxy trusts it with NODE_EXTRA_CA_CERTS: the
  # stand-in trusts the same certificates, so the build's `npm ci` reaches the registry.
  extra_ca=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$root/usr/local/share/ca-certificates/host-extra-ca.crt"
    extra_ca=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra-ca.crt')
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    "${extra_ca[@]}" \
    --change "LABEL org.opencontainers.image.description=\"local stand-in for $base (scripts/imageCheck.sh)\"" \
    - "$base" >/dev/null
  step "base stand-in $base built: Debian $DEBIAN_SUITE, Node $node_version, npm $STANDIN_NPM_VERSION"
fi

# ── the Dockerfile, unchanged ─────────────────────────────────────────────────────────────
# Host network: the build's `npm ci` reaches the npm registry the way this machine does.
# The classic builder: BuildKit would fetch the `# syntax=` frontend from a registry.
DOCKER_BUILDKIT=0 docker build --force-rm --network host -t "$IMAGE" . >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; fail "docker build"; }
step "docker build $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"

# ── run it for real ───────────────────────────────────────────────────────────────────────
node scripts/imageRun.ts "$IMAGE"
step "image run checks"

if [ "${IMAGE_CHECK_KEEP:-}" != "1" ]; then docker image rm "$IMAGE" >/dev/null; fi
echo "image-check: passed in $((SECONDS - started)) s"
