"""The TEST-ONLY keys under testdata/keys, by name: their PGP fingerprints and age
recipients. Shared by testdata/regenerate.py and bench/bench.py."""
import os

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keys")


def fp(name):
    for line in open(os.path.join(KEYS, "pgp", "fingerprints.txt")):
        n, f = line.split()
        if n == name:
            return f
    raise KeyError(name)


def age_recipient(name):
    for line in open(os.path.join(KEYS, "age", name + ".txt")):
        if line.startswith("# public key: "):
            return line.split(": ", 1)[1].strip()
    raise KeyError(name)
