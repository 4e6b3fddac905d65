#!/usr/bin/env python3
"""Seeds fuzz/corpus/TARGET/ from testdata/ (the golden cases' real inputs).

    python3 fuzz/seed.py

Files are named by their SHA-1, so running it again adds nothing twice. After a long
`FUZZ_KEEP=1 make fuzz`, minimize a corpus with libFuzzer's `-merge=1` before committing.
"""
import glob
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
TD = os.path.join(HERE, "..", "testdata")
FORMATS = {"yaml": 0, "json": 1, "env": 2, "ini": 3, "bin": 4}


def put(target, data, limit=64):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if len(os.listdir(d)) >= limit or len(data) > 65536:
        return
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    inputs = sorted(glob.glob(os.path.join(TD, "decrypt", "*", "input.*")))
    for path in inputs:
        data = open(path, "rb").read()
        ext = path.rsplit(".", 1)[1]
        store = {"yaml": "store_yaml", "json": "store_json", "env": "store_dotenv", "ini": "store_ini",
                 "bin": "store_json"}[ext]
        put(store, data)
        put("decrypt", bytes([FORMATS[ext]]) + data, limit=200)
        for m in re.finditer(rb"ENC\[[^\]]*\]", data):
            put("enc_value", m.group(0))
        if ext in ("env", "ini"):
            put("metadata", b"\n".join(l.replace(b" = ", b"=") for l in data.splitlines()
                                       if l.startswith(b"sops_")))
    for path in sorted(glob.glob(os.path.join(TD, "generator", "*", "config.yaml")) +
                       glob.glob(os.path.join(TD, "compat", "*", "config.yaml"))):
        put("generator_config", open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(TD, "krm", "*", "input.yaml"))):
        put("resource_list", open(path, "rb").read())
    envs = glob.glob(os.path.join(TD, "plaintexts", "compat", "*", "*.env"))
    for path in sorted(envs):
        put("env_files", open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(TD, "plaintexts", "yaml", "*"))):
        put("yaml_roundtrip", open(path, "rb").read(), limit=140)


if __name__ == "__main__":
    main()
