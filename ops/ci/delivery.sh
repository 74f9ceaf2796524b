#!/usr/bin/env bash
# The delivery stage of CI (.ci/run calls it after the tests): everything that ships the product.
#   1. manifests: every overlay × component rendered with `kubectl kustomize`, validated against the
#      pinned Kubernetes schemas and the invariants (ops/ci/validate-manifests.ts);
#   2. monitoring: promtool check/test of the alert rules, the dashboard's and analysis' PromQL;
#   3. workflows: actionlint over .github/workflows;
#   4. image: built here without a registry (ops/image/build.sh), run against the local Postgres,
#      Redis and RabbitMQ as uid 1000 on a read-only root (ops/image/smoke.sh); its size printed.
# The backup/restore test runs with the other tests (test/delivery/backup-restore.test.ts).
#
#   bash ops/ci/delivery.sh              # all of it
#   bash ops/ci/delivery.sh --no-image   # 1–3 only (no root or podman needed)
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE=node_modules/.bin/node
CACHE=${BOXOFFICE_IMAGE_CACHE:-/var/cache/boxoffice-image}
image=1
[ "${1:-}" = --no-image ] && image=""
started=$SECONDS
step() { printf '\n== delivery: %s\n' "$*"; }
apt_ready=""

step "manifests (kubectl kustomize + kubernetes-models schemas + invariants)"
# kustomize components need kubectl ≥ 1.21 (Debian bookworm's kubernetes-client is 1.20)
if ! kubectl kustomize --help >/dev/null 2>&1 || ! kubectl version --client 2>/dev/null | grep -qE 'Kustomize Version: v[45]'; then
  echo "delivery: kubectl with kustomize v4+ is needed (found: $(kubectl version --client 2>&1 | head -2 | tr '\n' ' '))" >&2
  exit 1
fi
kubectl version --client 2>/dev/null | sed 's/^/delivery: /'
$NODE ops/ci/validate-manifests.ts

step "monitoring (promtool from Debian's prometheus package)"
promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
  # only the promtool binary, unpacked from the .deb: installing the package would start a Prometheus
  promtool="$CACHE/prometheus/usr/bin/promtool"
  if [ ! -x "$promtool" ]; then
    mkdir -p "$CACHE/prometheus"
    [ -n "$apt_ready" ] || { apt-get update -qq; apt_ready=1; }
    (cd "$CACHE/prometheus" && apt-get download -qq prometheus 2>/dev/null && dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb)
  fi
fi
"$promtool" --version 2>&1 | head -1 | sed 's/^/delivery: /'
$NODE ops/ci/check-monitoring.ts "$promtool"

step "workflows (actionlint)"
$NODE ops/ci/lint-workflows.ts

if [ -n "$image" ]; then
  step "image (podman build, no registry)"
  t0=$SECONDS
  IMAGE=localhost/boxoffice:ci bash ops/image/build.sh
  echo "delivery: image built in $((SECONDS - t0)) s"
  step "image smoke run (uid 1000, read-only root, local Postgres/Redis/RabbitMQ)"
  IMAGE=localhost/boxoffice:ci bash ops/image/smoke.sh
fi
echo "delivery: stage finished in $((SECONDS - started)) s"
