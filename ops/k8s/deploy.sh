#!/usr/bin/env bash
# Deploy one overlay with one image: migrate first (the Job alone, waited for), then everything else,
# then wait for the rollouts. Used by .github/workflows/delivery.yml; runnable by hand.
#
#   ops/k8s/deploy.sh staging ghcr.io/acme/boxoffice@sha256:…   [extra components…]
# KUBECONFIG, or KUBECONFIG_DATA (base64 kubeconfig, as the pipeline passes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
env=${1:?overlay: dev|staging|production}; image=${2:?image reference}; shift 2
ns=$(kubectl kustomize "k8s/overlays/$env" | awk '/^kind: Namespace/{f=1} f&&/^  name:/{print $2; exit}')
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if [ -n "${KUBECONFIG_DATA:-}" ]; then echo "$KUBECONFIG_DATA" | base64 -d >"$work/kubeconfig"; export KUBECONFIG="$work/kubeconfig"; fi

name=${image%@*}; name=${name%:*}
current=$(kubectl kustomize "k8s/overlays/$env" | awk '/image: /{print $2; exit}'); current=${current%@*}; current=${current%:*}
mkdir -p "$work/k"
# The config's checksum goes on every pod template: the ConfigMap keeps one name (no hash suffix, see
# k8s/base/kustomization.yaml), so this is what rolls the pods when only the configuration changed.
sum=$(cat k8s/base/config.env "k8s/overlays/$env/kustomization.yaml" | sha256sum | cut -c1-16)
{
  echo "resources: [$(realpath --relative-to="$work/k" "k8s/overlays/$env")]"
  [ $# -gt 0 ] && echo "components: [$(for c in "$@"; do printf '%s,' "$(realpath --relative-to="$work/k" "k8s/components/$c")"; done | sed 's/,$//')]"
  echo "commonAnnotations: {boxoffice.io/config-sha: \"$sum\"}"
  echo "images:"
  echo "  - name: $current"
  echo "    newName: $name"
  case $image in *@*) echo "    digest: ${image#*@}" ;; *:*) echo "    newTag: ${image##*:}" ;; esac
} >"$work/k/kustomization.yaml"
kubectl kustomize "$work/k" >"$work/all.yaml"

echo "deploy: migrations ($image)"
kubectl -n "$ns" delete job boxoffice-migrate --ignore-not-found --wait=true
kubectl apply -f "$work/all.yaml" -l app.kubernetes.io/component=migrate
kubectl -n "$ns" wait --for=condition=complete --timeout=15m job/boxoffice-migrate
echo "deploy: everything else"
kubectl apply -f "$work/all.yaml"
for d in $(kubectl -n "$ns" get deploy -l app.kubernetes.io/name=boxoffice -o name); do
  kubectl -n "$ns" rollout status "$d" --timeout=10m
done
