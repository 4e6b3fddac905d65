//! Helpers shared by the integration tests: paths, hermetic environments, runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata() -> PathBuf {
    root().join("testdata")
}

/// A file of the golden decrypt case `name` (`testdata/decrypt/NAME/FILE`).
pub fn decrypt_case(name: &str, file: &str) -> PathBuf {
    testdata().join("decrypt").join(name).join(file)
}

pub fn keys() -> PathBuf {
    testdata().join("keys")
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_krm-sops"))
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "krm-sops-test-{}-{}-{}",
            std::process::id(),
            tag,
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `krm-sops` with no key reaching it from the machine: empty HOME, config
/// dir and GNUPGHOME, no SOPS_* variables, and the gpg fallback off.
pub fn hermetic(tmp: &TempDir) -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("SOPS_") || k.starts_with("KRM_SOPS_") || k == "GNUPGHOME" {
            c.env_remove(k);
        }
    }
    let home = tmp.path().join("home");
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::create_dir_all(&gnupg).expect("gnupg");
    c.env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("GNUPGHOME", &gnupg)
        .env("KRM_SOPS_GPG", "off");
    c
}

pub fn run(mut c: Command) -> Output {
    c.output().expect("run krm-sops")
}

/// Markers the test plaintexts carry; they must never reach stderr.
pub const SECRET_MARKERS: [&str; 2] = ["s3cr3t", "hunter2"];

pub fn assert_no_secret_in(stderr: &[u8], context: &str) {
    let s = String::from_utf8_lossy(stderr);
    for m in SECRET_MARKERS {
        assert!(
            !s.contains(m),
            "{context}: secret marker {m:?} leaked to stderr:\n{s}"
        );
    }
}

/// Copies a directory tree (symlinks are followed).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let p = e.path();
        let dst = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).expect("copy");
        }
    }
}

/// Whether every program runs (`PROG ARG`). A missing one skips the caller's
/// test with a message — except on CI (`CI=true`), where it fails.
pub fn tools(progs: &[(&str, &str)], who: &str) -> bool {
    let missing: Vec<&str> = progs
        .iter()
        .filter(|(p, arg)| {
            !Command::new(p)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{who}: {missing:?} must be installed on CI"
    );
    eprintln!("{who}: {missing:?} not found; skipping");
    false
}

/// Runs `case` on every directory under `root` in name order, then fails
/// listing every failing case — or when there is no case at all.
pub fn run_case_dirs(root: &Path, case: &dyn Fn(&Path) -> Result<(), String>) {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases under {}", root.display());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            case(d).err().map(|e| {
                format!(
                    "{}: {e}",
                    d.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases under {} failed:\n\n{}",
        failures.len(),
        dirs.len(),
        root.display(),
        failures.join("\n\n")
    );
}

/// Checks a refusal against `errors.txt`: `exit N`, then regexes for stderr.
pub fn check_errors(dir: &Path, code: Option<i32>, stderr: &str) -> Result<(), String> {
    let errors = std::fs::read_to_string(dir.join("errors.txt"))
        .map_err(|_| "neither expected.* nor errors.txt".to_string())?;
    let mut lines = errors.lines();
    let want_exit: i32 = lines
        .next()
        .and_then(|l| l.strip_prefix("exit "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("errors.txt must start with `exit N`")?;
    if code != Some(want_exit) {
        return Err(format!(
            "exit {code:?}, want {want_exit}; stderr:\n{stderr}"
        ));
    }
    if !stderr.starts_with("krm-sops: error: ") || !stderr.contains("\nhint: ") {
        return Err(format!(
            "stderr is not `krm-sops: error: …` + `hint: …`:\n{stderr}"
        ));
    }
    for pat in lines.filter(|l| !l.trim().is_empty()) {
        let re = regex::Regex::new(pat).map_err(|e| format!("bad regex {pat:?}: {e}"))?;
        if !re.is_match(stderr) {
            return Err(format!("stderr does not match {pat:?}:\n{stderr}"));
        }
    }
    Ok(())
}
