//! Command-line behaviour: usage, exit codes, stdin, verbosity.

use std::io::Write;
use std::process::Stdio;

use crate::common::{TempDir, decrypt_case, hermetic, keys, run};

#[test]
fn version_and_help() {
    let tmp = TempDir::new("cli");
    let mut c = hermetic(&tmp);
    c.arg("--version");
    let out = run(c);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("krm-sops "));
    let mut c = hermetic(&tmp);
    c.arg("--help");
    let out = run(c);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("decrypt") && text.contains("Exit codes"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["decrypt"],
        vec!["decrypt", "--input-type", "toml", "x"],
        vec!["decrypt", "--bogus", "x"],
        vec!["decrypt", "a", "b"],
        vec!["config.yaml", "extra"],
    ] {
        let tmp = TempDir::new("cli");
        let mut c = hermetic(&tmp);
        c.args(&args);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("krm-sops: error: ") && err.contains("hint: "),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn missing_and_directory_paths_exit_7() {
    let tmp = TempDir::new("cli");
    for p in ["/nonexistent/file.yaml", tmp.path().to_str().unwrap_or("/")] {
        let mut c = hermetic(&tmp);
        c.args(["decrypt", p]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(7), "{p}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(p));
    }
}

#[test]
fn reads_stdin_and_reports_the_key_when_verbose() {
    let tmp = TempDir::new("cli");
    let mut c = hermetic(&tmp);
    c.args(["--verbose", "decrypt", "--input-type", "yaml", "-"])
        .env("SOPS_AGE_KEY_FILE", keys().join("age/alice.txt"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let input = std::fs::read(decrypt_case("age-inline", "input.yaml")).expect("input");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read(decrypt_case("age-inline", "expected.yaml")).expect("expected");
    assert_eq!(out.stdout, want);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("(stdin): data key opened by age age1"),
        "{err}"
    );
    assert!(err.contains("SOPS_AGE_KEY_FILE="), "{err}");
}

#[test]
fn verbose_from_the_environment() {
    let tmp = TempDir::new("cli");
    let mut c = hermetic(&tmp);
    c.args(["decrypt"])
        .arg(decrypt_case("pgp-elgamal", "input.yaml"))
        .env("KRM_SOPS_VERBOSE", "1")
        .env(
            "SOPS_PGP_PRIVATE_KEY_FILE",
            keys().join("pgp/elgamal.sec.asc"),
        );
    let out = run(c);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data key opened by pgp key 3785ADC01BA660C4582DD20473935EC3080AA4C0"),
        "{err}"
    );
}

#[test]
fn extension_decides_the_format() {
    let tmp = TempDir::new("cli");
    let file = tmp.path().join("secret.sops.json");
    std::fs::copy(decrypt_case("json-pgp-rsa2048", "input.json"), &file).expect("copy");
    let mut c = hermetic(&tmp);
    c.arg("decrypt").arg(&file).env(
        "SOPS_PGP_PRIVATE_KEY_FILE",
        keys().join("pgp/rsa2048.sec.asc"),
    );
    let out = run(c);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout,
        std::fs::read(decrypt_case("json-pgp-rsa2048", "expected.json")).expect("expected")
    );
}

#[test]
fn install_copies_the_binary_to_every_plugin_path() {
    let tmp = TempDir::new("install");
    let dir = tmp.path().join("plugins");
    let mut c = hermetic(&tmp);
    c.arg("install").arg(&dir);
    let out = run(c);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original = std::fs::read(crate::common::bin()).expect("binary");
    for rel in krm_sops::cli::INSTALL_PATHS {
        let p = dir.join(rel);
        let meta = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o755, "{rel}");
        assert_eq!(std::fs::read(&p).expect("copy"), original, "{rel}");
    }
    // An installed copy runs.
    let mut c = hermetic(&tmp);
    c.arg("--version");
    let out = std::process::Command::new(dir.join("viaduct.ai/v1/ksops/ksops"))
        .arg("--version")
        .output()
        .expect("run copy");
    assert!(out.status.success());
    let _ = c;
}
