#!/usr/bin/env bash
# Run the built image the way Kubernetes will, against this machine's Postgres, Redis and RabbitMQ,
# and check what the deployment relies on:
#   - the migrate command of the image (the pre-rollout Job) prepares a fresh database;
#   - the app starts as uid 1000 on a read-only root file system (only /tmp is writable) with the
#     signing keys mounted read-only, and /health/ready answers 200;
#   - a register → login → /me round trip works;
#   - the image's own HEALTHCHECK passes (no systemd here, so `podman healthcheck run` is called);
#   - SIGTERM stops it cleanly (exit code 0, "shutdown complete" logged);
#   - given only DATABASE_URL, the same image runs on the Postgres-only profile (ADR 0078) and serves.
#
#   IMAGE=localhost/boxoffice:dev ops/image/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-localhost/boxoffice:dev}
PORT=${SMOKE_PORT:-18080}
DB=${SMOKE_DB:-boxoffice_image_smoke}
PGURL_BASE=${SMOKE_PG:-postgres://postgres@127.0.0.1:5432}
export CONTAINERS_CONF="$PWD/ops/image/containers.conf"
name=boxoffice-smoke-$$
work=$(mktemp -d)

fail() { echo "smoke: FAILED: $*" >&2; podman logs --tail 40 "$name" >&2 2>/dev/null || true; exit 1; }
vhost=boxoffice-smoke-$$
cleanup() {
  podman rm -f -t 0 "$name" "$name-pg" >/dev/null 2>&1 || true
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  rm -rf "$work"
  psql -q "$PGURL_BASE/postgres" -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

PGOPTIONS="-c client_min_messages=warning" psql -q "$PGURL_BASE/postgres" \
  -c "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null
# a vhost of its own on the local broker when rabbitmqctl is at hand (exchanges and queues go with it)
amqp=amqp://guest:guest@127.0.0.1:5672
if command -v rabbitmqctl >/dev/null && rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1 &&
  rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null 2>&1; then
  amqp="$amqp/$vhost"
fi
env_args=(
  -e NODE_ENV=production -e PORT="$PORT" -e LOG_LEVEL=info
  -e DATABASE_URL="$PGURL_BASE/$DB"
  -e REDIS_URL=redis://127.0.0.1:6379 -e REDIS_KEY_PREFIX="smoke$$:"
  -e AMQP_URL="$amqp"
  -e EVENTS_EXCHANGE="smoke$$.events" -e EVENTS_DLX="smoke$$.events.dlx"
  -e UNLEASH_APP_NAME=boxoffice-smoke
)
run=(podman run --network=host --read-only --user 1000:1000 --cap-drop=ALL --security-opt=no-new-privileges)

# signing keys, made on the host and mounted read-only as the Secret would be
mkdir -p "$work/keys"
node_modules/.bin/node bin/boxoffice.js keys rotate --dir "$work/keys" --no-audit >/dev/null
chmod 755 "$work/keys" && chmod 644 "$work/keys"/*

echo "smoke: migrate (the image's own command, as the pre-rollout Job runs it)"
"${run[@]}" --rm "${env_args[@]}" "$IMAGE" bin/boxoffice.js migrate >"$work/migrate.log" 2>&1 ||
  { cat "$work/migrate.log" >&2; fail "migrate"; }

echo "smoke: start on 127.0.0.1:$PORT (uid 1000, read-only root, keys mounted read-only)"
"${run[@]}" -d --name "$name" "${env_args[@]}" \
  -v "$work/keys:/var/run/secrets/boxoffice:ro" "$IMAGE" >/dev/null 2>"$work/run.err" ||
  { cat "$work/run.err" >&2; fail "podman run"; }
# (podman complains on stderr that there is no systemd to schedule the HEALTHCHECK; it is run below)

ready=""
for _ in $(seq 120); do
  state=$(podman inspect --format '{{.State.Status}}' "$name" 2>/dev/null || echo gone)
  [ "$state" = running ] || fail "container is $state"
  code=$(curl -s -o "$work/ready.json" -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)
  if [ "$code" = 200 ]; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || fail "/health/ready never answered 200 (last: $(cat "$work/ready.json" 2>/dev/null))"
echo "smoke: /health/ready 200 $(cat "$work/ready.json")"

uid=$(podman exec "$name" /usr/local/bin/node -p 'process.getuid()')
[ "$uid" = 1000 ] || fail "runs as uid $uid, not 1000"
[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")" = true ] || fail "root is not read-only"
podman exec "$name" /usr/local/bin/node -e "
  try { require('fs').writeFileSync('/app/written', 'x'); process.exit(1) }
  catch (e) { if (e.code !== 'EROFS' && e.code !== 'EACCES') throw e }" || fail "the root file system is writable"
echo "smoke: uid $uid, root file system read-only"

email="smoke-$$-$(date +%s)@example.com"
curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct-horse-9\",\"full_name\":\"Smoke\"}" >"$work/register.json" ||
  fail "register"
curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct-horse-9\"}" >"$work/login.json" || fail "login"
token=$(node -p "JSON.parse(require('fs').readFileSync('$work/login.json','utf8')).access_token")
me=$(curl -sf "http://127.0.0.1:$PORT/api/v1/auth/me" -H "authorization: Bearer $token") || fail "/me"
echo "$me" | grep -q "\"email\":\"$email\"" || fail "/me answered $me"
echo "smoke: register → login → /me round trip ok"

podman healthcheck run "$name" >/dev/null || fail "the image's HEALTHCHECK failed"
echo "smoke: HEALTHCHECK healthy"

podman stop -t 30 "$name" >/dev/null 2>&1
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
podman logs "$name" 2>&1 | grep -q '"msg":"shutdown complete"' || fail "no 'shutdown complete' after SIGTERM"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
echo "smoke: SIGTERM → drained and exited 0"

# one image given only a database: BACKEND=auto picks the Postgres-only profile (no Redis, no RabbitMQ)
"${run[@]}" -d --name "$name-pg" -e NODE_ENV=production -e PORT="$PORT" -e DATABASE_URL="$PGURL_BASE/$DB" \
  -v "$work/keys:/var/run/secrets/boxoffice:ro" "$IMAGE" >/dev/null 2>"$work/run-pg.err" ||
  { cat "$work/run-pg.err" >&2; fail "podman run (Postgres only)"; }
ready=""
for _ in $(seq 120); do
  code=$(curl -s -o "$work/ready-pg.json" -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)
  if [ "$code" = 200 ]; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { podman logs --tail 40 "$name-pg" >&2; fail "Postgres-only: /health/ready never answered 200"; }
grep -q '"backend":"postgres"' "$work/ready-pg.json" || fail "Postgres-only: readiness says $(cat "$work/ready-pg.json")"
curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct-horse-9\"}" >/dev/null || fail "Postgres-only: login"
podman stop -t 30 "$name-pg" >/dev/null 2>&1
[ "$(podman inspect --format '{{.State.ExitCode}}' "$name-pg")" = 0 ] || fail "Postgres-only: exit code after SIGTERM"
echo "smoke: only DATABASE_URL → Postgres-only profile ready $(cat "$work/ready-pg.json"), login ok, exited 0"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "smoke: image $IMAGE size $((size / 1000000)) MB ($size bytes)"
