//! Hostile and oversized input, and secret hygiene: the parts of the
//! bad-input matrix that need more than a golden case (sizes, time and memory
//! bounds, unreadable paths), and a check with strace that krm-sops opens no
//! file for writing while it decrypts or generates. The golden cases under
//! `testdata/decrypt/fail-*` and `testdata/generator/gen-err-*` hold the rest
//! of the matrix, each with its exact error.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::{TempDir, assert_no_secret_in, bin, hermetic, keys, testdata, tools};

/// Runs `cmd` under `/usr/bin/time` and returns its output and peak RSS in KiB
/// (None where GNU time is missing).
fn with_peak_rss(cmd: &Command) -> (Output, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    let tmp = TempDir::new("rss");
    let report = tmp.path().join("rss.txt");
    let mut c = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(cmd.get_program());
        c
    } else {
        Command::new(cmd.get_program())
    };
    c.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    let out = c.output().expect("run");
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse().ok());
    (out, rss)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let tmp = TempDir::new("huge");
    let huge = tmp.path().join("huge.yaml");
    let f = std::fs::File::create(&huge).expect("create");
    f.set_len(65 << 20).expect("sparse 65 MiB");
    let mut cmd = hermetic(&tmp);
    cmd.arg("decrypt").arg(&huge);
    let started = Instant::now();
    let (out, rss) = with_peak_rss(&cmd);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than the 64 MiB limit"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("huge.yaml"));
    assert!(out.stdout.is_empty());
    assert!(started.elapsed() < Duration::from_secs(5));
    if let Some(kib) = rss {
        assert!(kib < 32 << 10, "peak RSS {kib} KiB for a refused file");
    }

    // The same file named by a generator: refused, naming the entry and the file.
    std::fs::write(
        tmp.path().join("gen.yaml"),
        "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata: {name: g}\nsecretGenerator:\n  - name: s\n    envs: [huge.yaml]\n",
    )
    .expect("config");
    let out = hermetic(&tmp)
        .current_dir(tmp.path())
        .arg("gen.yaml")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("envs[0]") && e.contains("huge.yaml") && e.contains("64 MiB"),
        "{e}"
    );
}

#[test]
fn inputs_near_the_limit_stay_within_the_stated_memory() {
    let tmp = TempDir::new("big");
    // 60 MiB of comments: parsed in full, then refused as not encrypted.
    let line = format!("# {}\n", "x".repeat(76));
    let big = tmp.path().join("comments.yaml");
    std::fs::write(&big, line.repeat((60 << 20) / line.len())).expect("write");
    // 1,000,001 entries: refused by the entry bound, whatever the file's size.
    let many = tmp.path().join("many.yaml");
    let text: String = (0..1_000_001).map(|i| format!("k{i}: v\n")).collect();
    std::fs::write(&many, text).expect("write");
    for (file, want) in [
        (&big, "not a SOPS-encrypted YAML file"),
        (&many, "more than 1000000 values"),
    ] {
        let size = std::fs::metadata(file).expect("size").len();
        let mut cmd = hermetic(&tmp);
        cmd.arg("decrypt").arg(file);
        let started = Instant::now();
        let (out, rss) = with_peak_rss(&cmd);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}: {:?}",
            file.display(),
            started.elapsed()
        );
        if let Some(kib) = rss {
            // README ("Limits"): peak memory stays under 512 MiB whatever the input.
            assert!(
                kib < 512 << 10,
                "{}: peak RSS {kib} KiB for {size} bytes",
                file.display()
            );
        }
    }
}

#[test]
fn nesting_and_alias_bombs_are_refused_quickly() {
    for case in [
        "fail-alias-bomb",
        "fail-deep-nesting-yaml",
        "fail-deep-nesting-json",
    ] {
        let dir = testdata().join("decrypt").join(case);
        let input = std::fs::read_dir(&dir)
            .expect("case")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_stem().is_some_and(|s| s == "input"))
            .expect("input");
        let tmp = TempDir::new("bomb");
        let mut cmd = hermetic(&tmp);
        cmd.arg("decrypt").arg(&input);
        let started = Instant::now();
        let (out, rss) = with_peak_rss(&cmd);
        assert_eq!(out.status.code(), Some(3), "{case}: {}", stderr(&out));
        assert!(started.elapsed() < Duration::from_secs(5), "{case}");
        if let Some(kib) = rss {
            assert!(kib < 256 << 10, "{case}: peak RSS {kib} KiB");
        }
    }
}

#[test]
fn unreadable_paths_are_io_errors() {
    // Readable by nobody, root included: reading /proc/self/mem from offset 0 fails.
    let tmp = TempDir::new("unreadable");
    let out = hermetic(&tmp)
        .args(["decrypt", "/proc/self/mem"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("/proc/self/mem"));
    assert!(out.stdout.is_empty());
}

/// Every file-system call of `cmd` (children included) that could write.
fn writes_of(cmd: Command, tmp: &TempDir) -> (Output, Vec<String>) {
    let log = tmp.path().join("strace.log");
    let mut s = Command::new("strace");
    s.args(["-f", "-qq", "-e", "trace=%file", "-o"])
        .arg(&log)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        s.current_dir(d);
    }
    let out = s.output().expect("strace");
    let text = std::fs::read_to_string(&log).expect("strace log");
    let writes = text
        .lines()
        .filter(|l| {
            let open_for_write = (l.contains("open") || l.contains("creat"))
                && ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                    .iter()
                    .any(|f| l.contains(f));
            let changes = [
                "unlink", "rename", "mkdir", "rmdir", "chmod", "chown", "truncate", "link(",
                "symlink", "mknod",
            ]
            .iter()
            .any(|c| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|call| call.starts_with(c))
            });
            open_for_write || changes
        })
        .map(String::from)
        .collect();
    (out, writes)
}

#[test]
fn nothing_is_written_while_decrypting_or_generating() {
    if !tools(&[("strace", "-V")], "hardening") {
        return;
    }
    let tmp = TempDir::new("strace");
    let pgp = std::fs::read_to_string(keys().join("pgp/rsa2048.sec.asc")).expect("key");
    let runs: Vec<(&str, Command)> = vec![
        ("decrypt (age)", {
            let mut c = hermetic(&tmp);
            c.args(["decrypt"])
                .arg(testdata().join("decrypt/yaml-k8s-secret/input.yaml"))
                .env("SOPS_AGE_KEY_FILE", keys().join("age/alice.txt"));
            c
        }),
        ("decrypt (OpenPGP)", {
            let mut c = hermetic(&tmp);
            c.args(["decrypt"])
                .arg(testdata().join("decrypt/json-pgp-rsa2048/input.json"))
                .env("SOPS_PGP_PRIVATE_KEY", &pgp);
            c
        }),
        ("generator", {
            let mut c = hermetic(&tmp);
            c.current_dir(testdata().join("generator/gen-envs-literals-files"))
                .arg("config.yaml")
                .env("SOPS_AGE_KEY_FILE", keys().join("age/alice.txt"));
            c
        }),
        ("ksops", {
            let mut c = hermetic(&tmp);
            c.current_dir(testdata().join("compat/ksops-files-plus-secretfrom"))
                .arg("config.yaml")
                .env("SOPS_AGE_KEY_FILE", keys().join("age/alice.txt"));
            c
        }),
    ];
    for (what, cmd) in runs {
        let (out, writes) = writes_of(cmd, &tmp);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{what}: no output");
        assert_no_secret_in(&out.stderr, what);
        assert!(
            writes.is_empty(),
            "{what}: krm-sops touched the file system for writing:\n{}",
            writes.join("\n")
        );
    }
    // And strace does see writes when there are some (the check can fail).
    let mut c = Command::new(bin());
    c.arg("install").arg(tmp.path().join("installed"));
    let (out, writes) = writes_of(c, &tmp);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!writes.is_empty(), "strace saw no write from `install`");
}
