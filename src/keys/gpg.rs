//! The keyring fallback: asking the `gpg` binary, as sops does, when no
//! in-process key opens a PGP entry.
//!
//! Pipelines that `gpg --import` their key keep working without change. The
//! binary is `$SOPS_GPG_EXEC` or `gpg` on PATH; `KRM_SOPS_GPG=off` disables
//! the fallback. We list the keyring's secret key IDs once per process and
//! only run `gpg --decrypt` for entries addressed to one of them, always with
//! `--batch --no-tty --pinentry-mode error` (never a prompt) and a deadline.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process;
use crate::sops::tree::SecretBytes;

/// The gpg binary and what its keyring holds.
pub struct Gpg {
    exec: String,
    timeout: Duration,
    secret_ids: OnceLock<Result<Vec<String>, String>>,
}

impl Gpg {
    /// The fallback as the environment configures it, or `None` when disabled.
    pub fn from_env() -> Option<Gpg> {
        let setting = std::env::var("KRM_SOPS_GPG").unwrap_or_default();
        if matches!(
            setting.to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no" | "disabled"
        ) {
            return None;
        }
        let exec = std::env::var("SOPS_GPG_EXEC")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "gpg".to_string());
        Some(Gpg {
            exec,
            timeout: process::timeout_from_env(),
            secret_ids: OnceLock::new(),
        })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.exec);
        c.args(["--batch", "--no-tty", "--quiet", "--pinentry-mode", "error"]);
        c.env_remove("GPG_TTY");
        c
    }

    /// Long key IDs (upper-case hex) of every secret key and subkey in the keyring.
    fn secret_ids(&self) -> &Result<Vec<String>, String> {
        self.secret_ids.get_or_init(|| {
            let mut c = self.command();
            c.args(["--with-colons", "--list-secret-keys"]);
            let out = process::run(c, b"", self.timeout)?;
            if !out.success {
                return Err(format!(
                    "`{} --list-secret-keys` failed: {}",
                    self.exec,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            Ok(text
                .lines()
                .filter(|l| l.starts_with("sec:") || l.starts_with("ssb:"))
                .filter_map(|l| l.split(':').nth(4))
                .map(|id| id.to_ascii_uppercase())
                .collect())
        })
    }

    /// Decrypts one entry with the keyring, if it holds a recipient's secret key.
    pub fn decrypt(&self, enc: &str, recipients: &[String]) -> Result<SecretBytes, String> {
        let ids = self.secret_ids().as_ref().map_err(Clone::clone)?;
        let known = recipients
            .iter()
            .any(|r| r == "0000000000000000" || ids.iter().any(|id| id == r));
        if !known {
            return Err(format!(
                "the gpg keyring ({}) has no secret key for {}",
                std::env::var("GNUPGHOME").unwrap_or_else(|_| "~/.gnupg".into()),
                if recipients.is_empty() {
                    "this message".to_string()
                } else {
                    recipients.join(", ")
                }
            ));
        }
        let mut c = self.command();
        c.arg("--decrypt");
        let out = process::run(c, enc.as_bytes(), self.timeout)?;
        if !out.success || out.stdout.is_empty() {
            let msg = String::from_utf8_lossy(&out.stderr);
            let first = msg
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            return Err(format!("gpg could not decrypt it: {}", first.trim()));
        }
        Ok(SecretBytes::new(out.stdout.to_vec()))
    }
}
