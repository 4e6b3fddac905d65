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
