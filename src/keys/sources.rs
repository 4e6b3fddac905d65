//! Where keys come from: the environment variables and default paths sops
//! reads, plus krm-sops' in-process PGP variables.
//!
//! age: `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`,
//! `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, and
//! `$XDG_CONFIG_HOME/sops/age/keys.txt` (default `~/.config`). PGP:
//! `SOPS_PGP_PRIVATE_KEY` (armored keys), `SOPS_PGP_PRIVATE_KEY_FILE`
//! (`:`-separated paths), `SOPS_PGP_PASSPHRASE`. A source that is set but
//! unusable is a `Problem` reported with the file's error; default paths that
//! do not exist are silently skipped.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

use zeroize::Zeroizing;

use super::age::{self, AgeIdentity};
use super::pgp::{self, PgpKey};
use crate::process;

/// A configured key source that could not be used.
#[derive(Clone, Debug)]
pub struct Problem {
    pub source: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.reason)
    }
}

/// The key-related environment, captured once.
#[derive(Default)]
pub struct KeyEnv {
    pub age_key: Option<Zeroizing<String>>,
    pub age_key_file: Option<String>,
    pub age_key_cmd: Option<String>,
    pub age_ssh_key_file: Option<String>,
    pub pgp_key: Option<Zeroizing<String>>,
    pub pgp_key_file: Option<String>,
    pub pgp_passphrase: Option<Zeroizing<String>>,
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Loaded age identities.
#[derive(Default)]
pub struct AgeKeys {
    pub identities: Vec<AgeIdentity>,
    /// Identities that were skipped, with why (plugins, PQ, protected SSH keys at default paths).
    pub unsupported: Vec<String>,
    pub problems: Vec<Problem>,
}

/// Loaded OpenPGP secret keys.
#[derive(Default)]
pub struct PgpKeys {
    pub keys: Vec<PgpKey>,
    pub passphrase: Option<Zeroizing<String>>,
    pub problems: Vec<Problem>,
}

fn read_file(path: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err("is a directory, not a key file".into()),
        Ok(m) if m.len() > 16 << 20 => return Err("is larger than 16 MiB".into()),
        _ => {}
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| format!("cannot read it: {e}"))
}

impl KeyEnv {
    /// Reads the variables of the running process.
    pub fn from_process() -> KeyEnv {
        KeyEnv {
            age_key: var("SOPS_AGE_KEY").map(Zeroizing::new),
            age_key_file: var("SOPS_AGE_KEY_FILE"),
            age_key_cmd: var("SOPS_AGE_KEY_CMD"),
            age_ssh_key_file: var("SOPS_AGE_SSH_PRIVATE_KEY_FILE"),
            pgp_key: var("SOPS_PGP_PRIVATE_KEY").map(Zeroizing::new),
            pgp_key_file: var("SOPS_PGP_PRIVATE_KEY_FILE"),
            pgp_passphrase: std::env::var("SOPS_PGP_PASSPHRASE")
                .ok()
                .map(Zeroizing::new),
            home: var("HOME").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
        }
    }

    fn add_identities(out: &mut AgeKeys, text: &str, source: String, explicit: bool) {
        match age::parse_identities(text, &source) {
            Ok(p) => {
                if explicit && p.identities.is_empty() && p.unsupported.is_empty() {
                    out.problems.push(Problem {
                        source,
                        reason: "holds no age identity".into(),
                    });
                    return;
                }
                out.identities.extend(p.identities);
                out.unsupported.extend(p.unsupported);
            }
            Err(reason) => out.problems.push(Problem { source, reason }),
        }
    }

    fn add_ssh(out: &mut AgeKeys, path: &str, source: String, explicit: bool) {
        let result = read_file(path).and_then(|d| age::parse_ssh(&d, path, &source));
        match result {
            Ok(id) => out.identities.push(id),
            Err(reason) if explicit => out.problems.push(Problem { source, reason }),
            Err(reason) => out.unsupported.push(format!("{path} {reason}")),
        }
    }

    /// Loads every age identity the environment offers.
    pub fn load_age(&self) -> AgeKeys {
        let mut out = AgeKeys::default();
        if let Some(p) = &self.age_ssh_key_file {
            Self::add_ssh(
                &mut out,
                p,
                format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={p}"),
                true,
            );
        }
        if let Some(home) = &self.home {
            for name in ["id_ed25519", "id_rsa"] {
                let path = home.join(".ssh").join(name);
                if path.is_file() {
                    let p = path.display().to_string();
                    Self::add_ssh(&mut out, &p, p.clone(), false);
                }
            }
        }
        if let Some(k) = &self.age_key {
            Self::add_identities(&mut out, k, "SOPS_AGE_KEY".into(), true);
        }
        if let Some(f) = &self.age_key_file {
            let source = format!("SOPS_AGE_KEY_FILE={f}");
            match read_file(f) {
                Ok(data) => match std::str::from_utf8(&data) {
                    Ok(text) => Self::add_identities(&mut out, text, source, true),
                    Err(_) => out.problems.push(Problem {
                        source,
                        reason: "is not UTF-8 text".into(),
                    }),
                },
                Err(reason) => out.problems.push(Problem { source, reason }),
            }
        }
        if let Some(cmd) = &self.age_key_cmd {
            match run_key_cmd(cmd) {
                Ok(text) => Self::add_identities(&mut out, &text, "SOPS_AGE_KEY_CMD".into(), true),
                Err(reason) => out.problems.push(Problem {
                    source: "SOPS_AGE_KEY_CMD".into(),
                    reason,
                }),
            }
        }
        let config = self
            .xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")));
        if let Some(dir) = config {
            let path = dir.join("sops").join("age").join("keys.txt");
            if path.is_file() {
                let p = path.display().to_string();
                match read_file(&p) {
                    Ok(data) => {
                        let text = String::from_utf8_lossy(&data);
                        Self::add_identities(&mut out, &text, p, true);
                    }
                    Err(reason) => out.problems.push(Problem { source: p, reason }),
                }
            }
        }
        out
    }

    /// Loads every OpenPGP secret key the environment offers.
    pub fn load_pgp(&self) -> PgpKeys {
        let mut out = PgpKeys {
            passphrase: self.pgp_passphrase.clone(),
            ..PgpKeys::default()
        };
        if let Some(text) = &self.pgp_key {
            match pgp::load_keys(text.as_bytes(), "SOPS_PGP_PRIVATE_KEY") {
                Ok(k) => out.keys.extend(k),
                Err(reason) => out.problems.push(Problem {
                    source: "SOPS_PGP_PRIVATE_KEY".into(),
                    reason,
                }),
            }
        }
        if let Some(paths) = &self.pgp_key_file {
            for path in paths.split(':').filter(|p| !p.is_empty()) {
                let source = format!("SOPS_PGP_PRIVATE_KEY_FILE={path}");
                match read_file(path).and_then(|d| pgp::load_keys(&d, &source)) {
                    Ok(k) => out.keys.extend(k),
                    Err(reason) => out.problems.push(Problem { source, reason }),
                }
            }
        }
        out
    }
}

impl PgpKeys {
    /// Source problems, including unlock failures met while decrypting.
    pub fn all_problems(&self) -> Vec<String> {
        let mut v: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        for k in &self.keys {
            v.extend(k.unlock_failures());
        }
        v
    }
}

/// Runs `SOPS_AGE_KEY_CMD` (split like a shell word list) and returns its stdout.
fn run_key_cmd(cmd: &str) -> Result<String, String> {
    let words = shlex::split(cmd).ok_or("cannot split the command line (unbalanced quotes?)")?;
    let Some((prog, args)) = words.split_first() else {
        return Err("is empty".into());
    };
    let mut c = Command::new(prog);
    c.args(args);
    let out = process::run(c, b"", process::timeout_from_env())?;
    if !out.success {
        let code = out
            .code
            .map_or("a signal".to_string(), |c| format!("status {c}"));
        return Err(format!("the command failed with {code}"));
    }
    String::from_utf8(out.stdout.to_vec()).map_err(|_| "printed non-UTF-8 output".to_string())
}
