//! Table-driven cases (see `testdata/README.md` for the layouts):
//! `testdata/decrypt/*` runs `krm-sops decrypt`, `testdata/generator/*` the
//! legacy exec plugin (`krm-sops config.yaml`), `testdata/krm/*` the KRM
//! function (a ResourceList on stdin). Each harness fails when it finds no
//! case at all. Generator and KRM outputs are snapshots: `KRM_SOPS_BLESS=1`
//! rewrites `expected.yaml` (their meaning is checked against kustomize
//! itself by the `oracle` tests).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{
    TempDir, assert_no_secret_in, check_errors, hermetic, keys, run, run_case_dirs, testdata,
};

/// Applies `case.env` (key variables) to `cmd`; returns the `ARGS=` words.
fn apply_env(dir: &Path, cmd: &mut Command) -> Result<Vec<String>, String> {
    let env =
        std::fs::read_to_string(dir.join("case.env")).map_err(|e| format!("case.env: {e}"))?;
    let mut args = Vec::new();
    for line in env
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (k, v) = line.split_once('=').ok_or("case.env line without '='")?;
        let v = v.replace("$KEYS", &keys().display().to_string());
        if k == "ARGS" {
            args.extend(v.split_whitespace().map(String::from));
        } else if let Some(path) = v.strip_prefix('@') {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            cmd.env(k, text);
        } else {
            cmd.env(k, v);
        }
    }
    Ok(args)
}

/// The first file in `dir` whose stem is `stem` (`input.yaml`, `expected.json`…).
fn by_stem(dir: &Path, stem: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == stem))
}

/// Compares with (or, with KRM_SOPS_BLESS=1, writes) the `expected.yaml` snapshot.
fn check_snapshot(dir: &Path, got: &[u8]) -> Result<(), String> {
    let path = dir.join("expected.yaml");
    if std::env::var("KRM_SOPS_BLESS").as_deref() == Ok("1") {
        return std::fs::write(&path, got).map_err(|e| e.to_string());
    }
    let want = std::fs::read(&path)
        .map_err(|e| format!("expected.yaml: {e} (bless with KRM_SOPS_BLESS=1)"))?;
    if got != want {
        return Err(format!(
            "output differs from expected.yaml:\n--- expected\n{}\n--- got\n{}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(got)
        ));
    }
    Ok(())
}

/// `krm-sops decrypt ARGS input.*`; compared byte for byte with what sops printed.
fn decrypt_case(dir: &Path) -> Result<(), String> {
    let tmp = TempDir::new("golden");
    let mut cmd = hermetic(&tmp);
    let mut args: Vec<String> = vec!["decrypt".into()];
    args.extend(apply_env(dir, &mut cmd)?);
    let input = by_stem(dir, "input").ok_or("no input.* file")?;
    cmd.args(&args).arg(&input);
    let out = run(cmd);
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(exp) = by_stem(dir, "expected") {
        let want = std::fs::read(&exp).map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("exit {:?}: {stderr}", out.status.code()));
        }
        if out.stdout != want {
            return Err(format!(
                "output differs from sops decrypt:\n--- sops\n{}\n--- krm-sops\n{}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        return Ok(());
    }
    if !out.stdout.is_empty() {
        return Err(format!(
            "refused but printed {} bytes on stdout",
            out.stdout.len()
        ));
    }
    if !stderr.contains(&input.display().to_string()) {
        return Err(format!("the error does not name the file:\n{stderr}"));
    }
    check_errors(dir, out.status.code(), &stderr)
}

/// `krm-sops config.yaml` in the case directory (the legacy exec plugin).
fn generator_case(dir: &Path) -> Result<(), String> {
    let tmp = TempDir::new("generator");
    let mut cmd = hermetic(&tmp);
    apply_env(dir, &mut cmd)?;
    cmd.current_dir(dir).arg("config.yaml");
    let out = run(cmd);
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if dir.join("errors.txt").exists() {
        if !out.stdout.is_empty() {
            return Err(format!(
                "refused but printed {} bytes on stdout",
                out.stdout.len()
            ));
        }
        return check_errors(dir, out.status.code(), &stderr);
    }
    if !out.status.success() {
        return Err(format!("exit {:?}: {stderr}", out.status.code()));
    }
    check_snapshot(dir, &out.stdout)
}

/// `krm-sops` with `input.yaml` on stdin, in the case directory (the KRM function).
fn krm_case(dir: &Path) -> Result<(), String> {
    let tmp = TempDir::new("krm");
    let mut cmd = hermetic(&tmp);
    apply_env(dir, &mut cmd)?;
    cmd.current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = std::fs::read(dir.join("input.yaml")).map_err(|e| e.to_string())?;
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:") {
        return Err(format!(
            "stdout is not a ResourceList with items:\n{stdout}"
        ));
    }
    if dir.join("errors.txt").exists() {
        check_errors(
            dir,
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
        )?;
        if !stdout.contains("severity: error") || stdout.contains("kind: Secret") {
            return Err(format!(
                "a failure must carry an error result and no generated object:\n{stdout}"
            ));
        }
        return Ok(());
    }
    if !out.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    check_snapshot(dir, &out.stdout)
}

/// Runs every case directory under `testdata/<kind>`; fails on zero cases.
fn run_cases(kind: &str, case: fn(&Path) -> Result<(), String>) {
    run_case_dirs(&testdata().join(kind), &case);
}

#[test]
fn decrypt_cases() {
    run_cases("decrypt", decrypt_case);
}

#[test]
fn generator_cases() {
    run_cases("generator", generator_case);
}

#[test]
fn krm_cases() {
    run_cases("krm", krm_case);
}
