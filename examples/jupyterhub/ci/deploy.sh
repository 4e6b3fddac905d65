#!/usr/bin/env bash
# The seed's deploy step for krm-sops (called by .gitlab-ci.yml; runs on a laptop too).
#
#   ci/deploy.sh build    print the manifests of the overlay (kustomize build)
#   ci/deploy.sh apply    build | kubectl apply -f -
#   ci/deploy.sh delete   build | kubectl delete -f -
#
# Environment:
#   GPG_PRIV_KEY      armored OpenPGP private key (the GitLab CI variable), handed to krm-sops as
#                     SOPS_PGP_PRIVATE_KEY through the process environment — never through a
#                     generator's `envs:` list, which drops values containing '=' (armor does).
#   K8S_CONFIG_FILE   kubeconfig for apply/delete (default /dev/shm/kubeconfig)
#   OVERLAY           the overlay to build (default overlays/ldap-auth)
#   KUSTOMIZE         `kustomize` (standalone; the default when it is on PATH) or `kubectl`
#                     (kubectl's built-in kustomize, which runs the legacy exec plugin too)
#   HUB_SECRETS       `generate` (default: fresh random proxy token and cookie secret, as the seed)
#                     or `keep` (use base/proxy.token and base/hub.cookie-secret as they are)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-build}"
overlay="${OVERLAY:-overlays/ldap-auth}"
: "${GPG_PRIV_KEY:?set GPG_PRIV_KEY to the armored private key (a masked CI/CD variable)}"
command -v krm-sops >/dev/null || { echo "deploy.sh: krm-sops is not on PATH" >&2; exit 1; }

export SOPS_PGP_PRIVATE_KEY="$GPG_PRIV_KEY"
export KRM_SOPS_GPG=off   # the key above or nothing: never a runner's gpg keyring

# krm-sops serves kustomize as a legacy exec plugin: lay out the plugin paths for this run.
plugins="$(mktemp -d)"
trap 'rm -rf "$plugins"' EXIT
krm-sops install "$plugins" >/dev/null
export KUSTOMIZE_PLUGIN_HOME="$plugins"

if [[ "${HUB_SECRETS:-generate}" == generate ]]; then
  (umask 077
   od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > base/proxy.token
   od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > base/hub.cookie-secret)
fi

build() {
  if [[ "${KUSTOMIZE:-}" == kubectl ]] || { [[ -z "${KUSTOMIZE:-}" ]] && ! command -v kustomize >/dev/null; }; then
    kubectl kustomize --enable-alpha-plugins "$overlay"
  else
    kustomize build --enable-alpha-plugins --enable-exec "$overlay"
  fi
}

case "$mode" in
  build) build ;;
  apply) build | kubectl --kubeconfig="${K8S_CONFIG_FILE:-/dev/shm/kubeconfig}" apply -f - ;;
  delete) build | kubectl --kubeconfig="${K8S_CONFIG_FILE:-/dev/shm/kubeconfig}" delete --ignore-not-found -f - ;;
  *) echo "usage: ci/deploy.sh build|apply|delete" >&2; exit 2 ;;
esac
