//! Recovering a file's data key from its key groups.
//!
//! `Keyring` holds every identity the environment offers, loaded lazily (a
//! file without PGP entries never parses PGP keys) and shared by all files of
//! a run, so a protected PGP key is unlocked once per process. For each key
//! group we try its entries in sops' order (age, then PGP, then the rest) and
//! keep the first part that opens; with several groups the parts are combined
//! with Shamir. When nothing opens, the error lists every group and entry with
//! the reason it failed. Where keys come from is in `keys::sources`.

pub mod age;
pub mod elgamal;
pub mod gpg;
pub mod pgp;
pub mod sources;

use std::sync::OnceLock;

use crate::error::{Error, GroupReport, KeyAttempt, Result};
use crate::shamir;
use crate::sops::cipher::DataKey;
use crate::sops::metadata::{KeyEntry, Metadata, remote_kind_name};
use crate::sops::tree::SecretBytes;
use sources::{AgeKeys, KeyEnv, PgpKeys, Problem};

/// Every key source of the process, loaded on first use.
pub struct Keyring {
    env: KeyEnv,
    /// Describe which key opened each group (costs a scalar multiplication for age).
    describe: bool,
    age: OnceLock<AgeKeys>,
    pgp: OnceLock<PgpKeys>,
    gpg: Option<gpg::Gpg>,
}

/// A recovered data key and, for `--verbose`, which key opened each group.
pub struct Opened {
    pub data_key: DataKey,
    pub opened_by: Vec<String>,
}

impl Keyring {
    /// The keyring the process environment describes.
    pub fn from_env() -> Keyring {
        Keyring::new(KeyEnv::from_process(), gpg::Gpg::from_env())
    }

    pub fn new(env: KeyEnv, gpg: Option<gpg::Gpg>) -> Keyring {
        Keyring {
            env,
            describe: false,
            age: OnceLock::new(),
            pgp: OnceLock::new(),
            gpg,
        }
    }

    /// Fill `Opened::opened_by` (for `--verbose`).
    pub fn describing(mut self, on: bool) -> Keyring {
        self.describe = on;
        self
    }

    fn age(&self) -> &AgeKeys {
        self.age.get_or_init(|| self.env.load_age())
    }

    fn pgp(&self) -> &PgpKeys {
        self.pgp.get_or_init(|| self.env.load_pgp())
    }

    /// Problems with configured key sources met so far (for messages and warnings).
    pub fn problems(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        if let Some(a) = self.age.get() {
            v.extend(a.problems.iter().map(Problem::to_string));
        }
        if let Some(p) = self.pgp.get() {
            v.extend(p.all_problems());
        }
        v
    }

    /// Tries one entry: the opened part and who opened it, or why not.
    fn try_entry(&self, entry: &KeyEntry) -> std::result::Result<(SecretBytes, String), String> {
        match entry {
            KeyEntry::Age { recipient, enc } => {
                if let Some(why) = age::unsupported_recipient(recipient) {
                    return Err(why.to_string());
                }
                let keys = self.age();
                match age::decrypt(enc, &keys.identities) {
                    Ok((part, id)) => Ok((
                        part,
                        if self.describe {
                            format!("age {} (from {})", id.label(), id.source)
                        } else {
                            String::new()
                        },
                    )),
                    Err(why) => Err(with_notes(why, &keys.unsupported)),
                }
            }
            KeyEntry::Pgp { enc, .. } => {
                let keys = self.pgp();
                let reason = match pgp::decrypt(
                    enc,
                    &keys.keys,
                    keys.passphrase.as_ref().map(|p| p.as_str()),
                ) {
                    pgp::PgpOutcome::Opened(part, by) => return Ok((part, by)),
                    pgp::PgpOutcome::Failed { reason, .. } => reason,
                };
                let Some(gpg) = &self.gpg else {
                    return Err(reason);
                };
                match gpg.decrypt(enc, &pgp::recipients(enc)) {
                    Ok(part) => Ok((part, "pgp key from the gpg keyring".into())),
                    Err(gpg_why) => Err(format!("{reason}; {gpg_why}")),
                }
            }
            KeyEntry::Remote { kind, .. } => Err(format!(
                "{} keys are not supported yet",
                remote_kind_name(kind)
            )),
        }
    }

    /// Recovers the data key of `file` from its metadata.
    pub fn recover(&self, file: &str, meta: &Metadata) -> Result<Opened> {
        let usable = meta.groups.iter().flatten().any(|e| match e {
            KeyEntry::Age { recipient, .. } => age::unsupported_recipient(recipient).is_none(),
            KeyEntry::Pgp { .. } => true,
            KeyEntry::Remote { .. } => false,
        });
        if !usable {
            return Err(Error::UnsupportedKeys {
                file: file.into(),
                kinds: describe_kinds(meta),
            });
        }
        let mut parts: Vec<SecretBytes> = Vec::new();
        let mut opened_by = Vec::new();
        let mut reports = Vec::new();
        for (gi, group) in meta.groups.iter().enumerate() {
            let mut entries: Vec<&KeyEntry> = group.iter().collect();
            entries.sort_by_key(|e| e.order());
            let mut report = GroupReport {
                index: gi,
                recovered: false,
                attempts: Vec::new(),
            };
            for e in entries {
                match self.try_entry(e) {
                    Ok((part, by)) => {
                        parts.push(part);
                        if self.describe {
                            opened_by.push(if meta.groups.len() > 1 {
                                format!("group {gi}: {by}")
                            } else {
                                by
                            });
                        }
                        report.recovered = true;
                        break;
                    }
                    Err(reason) => report.attempts.push(KeyAttempt {
                        kind: e.kind(),
                        id: e.id().to_string(),
                        reason,
                    }),
                }
            }
            reports.push(report);
        }
        let needed = if meta.groups.len() > 1 {
            meta.threshold.max(2)
        } else {
            1
        };
        if parts.len() < needed {
            return Err(Error::NoKey {
                file: file.into(),
                threshold: needed,
                groups: reports,
                key_sources: self.problems(),
            });
        }
        let key = if parts.len() == 1 {
            DataKey::from_slice(parts[0].as_bytes())
        } else {
            let refs: Vec<&[u8]> = parts.iter().map(SecretBytes::as_bytes).collect();
            let combined = shamir::combine(&refs).map_err(|why| {
                Error::malformed(file, format!("cannot combine the key-group parts: {why}"))
            })?;
            DataKey::from_slice(&combined)
        };
        let data_key = key
            .ok_or_else(|| Error::malformed(file, "the recovered data key is not 32 bytes long"))?;
        Ok(Opened {
            data_key,
            opened_by,
        })
    }
}

fn with_notes(reason: String, notes: &[String]) -> String {
    if notes.is_empty() {
        reason
    } else {
        format!("{reason} (skipped: {})", notes.join("; "))
    }
}

/// "AWS KMS and GCP KMS", naming the key kinds a file is encrypted for.
fn describe_kinds(meta: &Metadata) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for e in meta.groups.iter().flatten() {
        let name = match e {
            KeyEntry::Remote { kind, .. } => remote_kind_name(kind),
            KeyEntry::Age { recipient, .. } if recipient.starts_with("age1pq1") => {
                "post-quantum age recipients"
            }
            KeyEntry::Age { .. } => "age plugin recipients",
            KeyEntry::Pgp { .. } => "PGP",
        };
        if !kinds.contains(&name) {
            kinds.push(name);
        }
    }
    match kinds.len() {
        0 => "no key".into(),
        1 => kinds[0].into(),
        n => format!("{} and {}", kinds[..n - 1].join(", "), kinds[n - 1]),
    }
}
