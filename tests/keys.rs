//! Key handling beyond the golden cases: GnuPG's OCB packet, the gpg keyring
//! fallback (on, off, and bounded in time).

use std::process::Command;

use krm_sops::keys::pgp::{PgpOutcome, decrypt, load_keys};

use crate::common::{TempDir, decrypt_case, hermetic, keys, run, testdata};

#[test]
fn gnupg_ocb_aead_messages_decrypt_in_process() {
    let dir = testdata().join("pgp-ocb");
    let key = std::fs::read(dir.join("bob.sec.asc")).expect("bob key");
    let keys = load_keys(&key, "bob").expect("load bob");
    let msg = std::fs::read_to_string(dir.join("msg_to_bob.asc")).expect("message");
    match decrypt(&msg, &keys, None) {
        PgpOutcome::Opened(plain, by) => {
            assert_eq!(plain.as_bytes(), b"foo\n");
            assert!(by.contains("pgp key"), "{by}");
        }
        PgpOutcome::Failed { reason, .. } => panic!("OCB message did not open: {reason}"),
    }
}

fn gpg_available() -> bool {
    let ok = Command::new("gpg").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "gpg missing on CI"
        );
        eprintln!("keys: gpg is not installed; skipping the keyring fallback test");
    }
    ok
}

#[test]
fn gpg_keyring_fallback_opens_imported_keys_and_can_be_turned_off() {
    if !gpg_available() {
        return;
    }
    let tmp = TempDir::new("gpg");
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).expect("gnupg dir");
    let imported = Command::new("gpg")
        .args(["--batch", "--quiet", "--import"])
        .arg(keys().join("pgp/rsa2048.sec.asc"))
        .env("GNUPGHOME", &gnupg)
        .output()
        .expect("gpg --import");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let case = "json-pgp-rsa2048";
    let mut c = hermetic(&tmp);
    c.env("GNUPGHOME", &gnupg)
        .env_remove("KRM_SOPS_GPG")
        .args(["--verbose", "decrypt"])
        .arg(decrypt_case(case, "input.json"));
    let out = run(c);
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &gnupg)
        .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout,
        std::fs::read(decrypt_case(case, "expected.json")).expect("expected")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpg keyring"));

    let mut c = hermetic(&tmp);
    c.env("GNUPGHOME", &gnupg)
        .env("KRM_SOPS_GPG", "off")
        .arg("decrypt")
        .arg(decrypt_case(case, "input.json"));
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_hanging_gpg_is_stopped_and_reported() {
    let tmp = TempDir::new("gpghang");
    let fake = tmp.path().join("fake-gpg");
    std::fs::write(&fake, "#!/bin/sh\nsleep 30\n").expect("write fake gpg");
    let _ = Command::new("chmod").arg("+x").arg(&fake).status();
    let mut c = hermetic(&tmp);
    c.env_remove("KRM_SOPS_GPG")
        .env("SOPS_GPG_EXEC", &fake)
        .env("KRM_SOPS_CMD_TIMEOUT", "0.5")
        .arg("decrypt")
        .arg(decrypt_case("json-pgp-rsa2048", "input.json"));
    let start = std::time::Instant::now();
    let out = run(c);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not finish"), "{err}");
}
