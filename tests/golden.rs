//! Table-driven cases: every directory under `testdata/decrypt/` is one run
//! of `krm-sops decrypt` (see `testdata/README.md` for the layout). The
//! harness fails when it finds no case at all.

use std::path::Path;

use crate::common::{TempDir, assert_no_secret_in, hermetic, keys, run, testdata};

/// Runs one case directory; returns why it failed.
fn decrypt_case(dir: &Path) -> Result<(), String> {
    let tmp = TempDir::new("golden");
    let mut cmd = hermetic(&tmp);
    let env =
        std::fs::read_to_string(dir.join("case.env")).map_err(|e| format!("case.env: {e}"))?;
    let mut args: Vec<String> = vec!["decrypt".into()];
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
    let input = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == "input"))
        .ok_or("no input.* file")?;
    cmd.args(&args).arg(&input);
    let out = run(cmd);
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == "expected"));
    if let Some(exp) = expected {
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
    let errors = std::fs::read_to_string(dir.join("errors.txt"))
        .map_err(|_| "neither expected.* nor errors.txt".to_string())?;
    let mut lines = errors.lines();
    let want_exit: i32 = lines
        .next()
        .and_then(|l| l.strip_prefix("exit "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("errors.txt must start with `exit N`")?;
    if out.status.code() != Some(want_exit) {
        return Err(format!(
            "exit {:?}, want {want_exit}; stderr:\n{stderr}",
            out.status.code()
        ));
    }
    if !out.stdout.is_empty() {
        return Err(format!(
            "refused but printed {} bytes on stdout",
            out.stdout.len()
        ));
    }
    if !stderr.starts_with("krm-sops: error: ") || !stderr.contains("\nhint: ") {
        return Err(format!(
            "stderr is not `krm-sops: error: …` + `hint: …`:\n{stderr}"
        ));
    }
    if !stderr.contains(&input.display().to_string()) {
        return Err(format!("the error does not name the file:\n{stderr}"));
    }
    for pat in lines.filter(|l| !l.trim().is_empty()) {
        let re = regex::Regex::new(pat).map_err(|e| format!("bad regex {pat:?}: {e}"))?;
        if !re.is_match(&stderr) {
            return Err(format!("stderr does not match {pat:?}:\n{stderr}"));
        }
    }
    Ok(())
}

#[test]
fn decrypt_cases() {
    let root = testdata().join("decrypt");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("testdata/decrypt")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no golden cases under {}", root.display());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            decrypt_case(d).err().map(|e| {
                format!(
                    "{}: {e}",
                    d.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}
