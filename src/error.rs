//! The one error type of krm-sops, and what each failure means to a user.
//!
//! Every variant names a condition (not a code path), carries the file it is
//! about and, where it applies, the key path inside that file, and knows the
//! hint line printed under it and the process exit code it maps to. No variant
//! ever holds a secret value, plaintext or key material: messages are built
//! from paths, fingerprints, recipients and reasons only.

use std::fmt;
use std::path::Path;

/// Process exit codes, documented in README.md ("Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// A KRM function run failed (the KRM spec asks for exit 1), or an unexpected error.
    Failure = 1,
    /// Bad command line.
    Usage = 2,
    /// The input is not a SOPS file, or is malformed.
    Format = 3,
    /// Integrity failure: a value fails authentication, the MAC mismatches or is missing.
    Integrity = 4,
    /// No key could decrypt the data key.
    NoKey = 5,
    /// A key source is unusable: empty or malformed key file, wrong passphrase, failing key command.
    KeySource = 6,
    /// Reading or writing a file or stream failed.
    Io = 7,
    /// A generator configuration is invalid.
    Config = 8,
}

/// Why one key entry of a SOPS file could not produce its part of the data key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttempt {
    /// "age", "pgp", "kms", …
    pub kind: &'static str,
    /// The recipient, fingerprint, ARN or URL that identifies the entry.
    pub id: String,
    /// Why it failed, in words.
    pub reason: String,
}

/// The outcome of one key group when the data key could not be recovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupReport {
    pub index: usize,
    pub recovered: bool,
    pub attempts: Vec<KeyAttempt>,
}

/// Everything that can go wrong, with its context.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The command line is wrong.
    Usage { message: String },
    /// A file or stream could not be read or written.
    Io {
        file: String,
        action: &'static str,
        source: std::io::Error,
    },
    /// The file parsed, but carries no SOPS metadata.
    NotEncrypted { file: String, format: &'static str },
    /// The file is not valid for its format, or its SOPS metadata is malformed.
    Malformed { file: String, what: String },
    /// A value inside the file fails AES-GCM authentication (tampered or wrong key).
    ValueAuth { file: String, path: String },
    /// A value the file's encryption rule says is encrypted is stored in the clear.
    PlainValue {
        file: String,
        path: String,
        found: &'static str,
    },
    /// The computed MAC differs from the stored one.
    MacMismatch { file: String },
    /// The file has no MAC.
    MacMissing { file: String },
    /// The stored MAC itself fails to decrypt (tampered MAC or lastmodified).
    MacUndecryptable { file: String },
    /// No key group (or not enough, for Shamir) could be opened.
    NoKey {
        file: String,
        threshold: usize,
        groups: Vec<GroupReport>,
        /// Configured key sources that could not be used (bad file, wrong passphrase…).
        key_sources: Vec<String>,
    },
    /// The file is encrypted only for key types krm-sops cannot use.
    UnsupportedKeys { file: String, kinds: String },
    /// A configured key source is unusable.
    KeySource { source: String, reason: String },
    /// A path a generator names is refused by the load restriction.
    Restricted { file: String, reason: String },
    /// A generator configuration is invalid.
    Config {
        file: String,
        context: String,
        message: String,
    },
    /// A value cannot be printed in the requested output format.
    Output { file: String, what: String },
    /// An error met while running a generator, with the generator, entry and
    /// field it concerns (`SopsGenerator g: secretGenerator[0] (s): files[1]`).
    InContext { context: String, source: Box<Error> },
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(file: impl AsRef<Path>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            file: file.as_ref().display().to_string(),
            action,
            source,
        }
    }

    pub fn malformed(file: &str, what: impl Into<String>) -> Self {
        Error::Malformed {
            file: file.to_string(),
            what: what.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }

    pub fn config(file: &str, context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.to_string(),
            context: context.into(),
            message: message.into(),
        }
    }

    /// Wraps the error with the generator context it was met in.
    pub fn within(self, context: impl Into<String>) -> Error {
        Error::InContext {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The exit code this error maps to outside KRM mode.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::InContext { source, .. } => source.exit_code(),
            Error::Usage { .. } => ExitCode::Usage,
            Error::Io { .. } => ExitCode::Io,
            Error::NotEncrypted { .. } | Error::Malformed { .. } | Error::Output { .. } => {
                ExitCode::Format
            }
            Error::ValueAuth { .. }
            | Error::PlainValue { .. }
            | Error::MacMismatch { .. }
            | Error::MacMissing { .. }
            | Error::MacUndecryptable { .. } => ExitCode::Integrity,
            Error::NoKey { key_sources, .. } if !key_sources.is_empty() => ExitCode::KeySource,
            Error::NoKey { .. } | Error::UnsupportedKeys { .. } => ExitCode::NoKey,
            Error::KeySource { .. } => ExitCode::KeySource,
            Error::Config { .. } | Error::Restricted { .. } => ExitCode::Config,
        }
    }

    /// The file (or stream) the error is about, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Error::InContext { source, .. } => source.file(),
            Error::Usage { .. } | Error::KeySource { .. } => None,
            Error::Io { file, .. }
            | Error::NotEncrypted { file, .. }
            | Error::Malformed { file, .. }
            | Error::ValueAuth { file, .. }
            | Error::PlainValue { file, .. }
            | Error::MacMismatch { file }
            | Error::MacMissing { file }
            | Error::MacUndecryptable { file }
            | Error::NoKey { file, .. }
            | Error::UnsupportedKeys { file, .. }
            | Error::Config { file, .. }
            | Error::Restricted { file, .. }
            | Error::Output { file, .. } => Some(file),
        }
    }

    /// A short, stable name of the condition (used in tests and KRM results).
    pub fn class(&self) -> &'static str {
        match self {
            Error::InContext { source, .. } => source.class(),
            Error::Usage { .. } => "usage",
            Error::Io { .. } => "io",
            Error::NotEncrypted { .. } => "not-encrypted",
            Error::Malformed { .. } => "malformed",
            Error::ValueAuth { .. } => "tampered-ciphertext",
            Error::PlainValue { .. } => "tampered-plain-value",
            Error::MacMismatch { .. } | Error::MacUndecryptable { .. } => "mac-mismatch",
            Error::MacMissing { .. } => "mac-missing",
            Error::NoKey { .. } => "no-matching-key",
            Error::UnsupportedKeys { .. } => "unsupported-keys",
            Error::KeySource { .. } => "key-source",
            Error::Config { .. } => "config",
            Error::Restricted { .. } => "restricted-path",
            Error::Output { .. } => "output",
        }
    }

    /// What the user should do next: one line, printed as `hint: …`.
    pub fn hint(&self) -> String {
        match self {
            Error::InContext { source, .. } => source.hint(),
            Error::Usage { .. } => "run `krm-sops --help` for usage".into(),
            Error::Io { .. } => "check that the path exists, is a regular file and is readable".into(),
            Error::NotEncrypted { .. } => "encrypt it with `sops encrypt`, or list plain data under `literals` or kustomize's own secretGenerator".into(),
            Error::Malformed { .. } => "check the file with `sops decrypt`; pass --input-type if the extension does not say the format".into(),
            Error::ValueAuth { .. } | Error::PlainValue { .. } => "the file was modified after encryption or mixes values from another file; restore it from version control and re-encrypt with sops".into(),
            Error::MacMismatch { .. } | Error::MacUndecryptable { .. } => "the file was modified outside sops (values, order or lastmodified); restore it, or re-save it with `sops edit` if the change is yours".into(),
            Error::MacMissing { .. } => "the file has no MAC, so its integrity cannot be checked; re-encrypt it with a current sops".into(),
            Error::NoKey { key_sources, .. } if !key_sources.is_empty() => "fix the key source named above (SOPS_AGE_KEY_FILE, SOPS_PGP_PRIVATE_KEY_FILE, SOPS_PGP_PASSPHRASE, …), or provide another matching key".into(),
            Error::NoKey { .. } => "provide a matching key: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_PGP_PRIVATE_KEY or SOPS_PGP_PRIVATE_KEY_FILE (+ SOPS_PGP_PASSPHRASE), or import it into gpg".into(),
            Error::UnsupportedKeys { .. } => "add an age or PGP recipient to the file (`sops updatekeys` / `sops rotate --add-age …`)".into(),
            Error::KeySource { source, .. } => format!("fix or unset {source}"),
            Error::Restricted { .. } => "keep the files inside the kustomization directory, or set KRM_SOPS_LOAD_RESTRICTOR=none (as kustomize's --load-restrictor LoadRestrictionsNone)".into(),
            Error::Config { .. } => "see README.md (\"The SopsGenerator API\"; for KSOPS and SopsSecretGenerator configs, \"KSOPS and SopsSecretGenerator users\") for the fields each kind takes".into(),
            Error::Output { .. } => "choose another --output-type".into(),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage { message } => write!(f, "{message}"),
            Error::Io {
                file,
                action,
                source,
            } => write!(f, "cannot {action} {file}: {source}"),
            Error::NotEncrypted { file, format } => write!(
                f,
                "{file} is not a SOPS-encrypted {format} file (no sops metadata found)"
            ),
            Error::Malformed { file, what } => write!(f, "{file}: {what}"),
            Error::ValueAuth { file, path } => write!(
                f,
                "{file}: the value at {path} fails authentication (tampered ciphertext, or encrypted with another data key)"
            ),
            Error::PlainValue { file, path, found } => write!(
                f,
                "{file}: the value at {path} should be encrypted but is a plain {found} (the file was edited outside sops)"
            ),
            Error::MacMismatch { file } => write!(
                f,
                "{file}: MAC mismatch: the file's contents do not match its message authentication code"
            ),
            Error::MacMissing { file } => write!(f, "{file}: the file has no MAC"),
            Error::MacUndecryptable { file } => write!(
                f,
                "{file}: MAC mismatch: the stored MAC fails authentication (the MAC or lastmodified was altered)"
            ),
            Error::NoKey {
                file,
                threshold,
                groups,
                key_sources,
            } => {
                let opened = groups.iter().filter(|g| g.recovered).count();
                if groups.len() > 1 {
                    write!(
                        f,
                        "{file}: could not recover the data key: {opened} of {} key groups opened, {threshold} needed",
                        groups.len()
                    )?;
                } else {
                    write!(f, "{file}: no key could decrypt the data key")?;
                }
                for g in groups {
                    if groups.len() > 1 {
                        let state = if g.recovered { "opened" } else { "failed" };
                        write!(f, "\n  group {}: {state}", g.index)?;
                    }
                    if g.recovered {
                        continue;
                    }
                    if g.attempts.is_empty() {
                        write!(f, "\n    (no key entries)")?;
                    }
                    for a in &g.attempts {
                        write!(f, "\n    {} {}: {}", a.kind, a.id, a.reason)?;
                    }
                }
                for k in key_sources {
                    write!(f, "\n  key source problem: {k}")?;
                }
                Ok(())
            }
            Error::UnsupportedKeys { file, kinds } => write!(
                f,
                "{file}: encrypted for {kinds} only; not supported yet (krm-sops reads age and PGP keys)"
            ),
            Error::KeySource { source, reason } => write!(f, "{source}: {reason}"),
            Error::Restricted { file, reason } => write!(f, "{file}: refused: {reason}"),
            Error::Config {
                file,
                context,
                message,
            } => {
                if context.is_empty() {
                    write!(f, "{file}: {message}")
                } else {
                    write!(f, "{file}: {context}: {message}")
                }
            }
            Error::Output { file, what } => write!(f, "{file}: {what}"),
            Error::InContext { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Counts groups for messages like "2 of 3 key groups".
pub fn describe_count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", plural(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_lists_every_attempt() {
        let e = Error::NoKey {
            file: "a.yaml".into(),
            threshold: 2,
            groups: vec![
                GroupReport {
                    index: 0,
                    recovered: true,
                    attempts: vec![],
                },
                GroupReport {
                    index: 1,
                    recovered: false,
                    attempts: vec![KeyAttempt {
                        kind: "age",
                        id: "age1xyz".into(),
                        reason: "no identity matches".into(),
                    }],
                },
            ],
            key_sources: vec![],
        };
        let s = e.to_string();
        assert!(s.contains("1 of 2 key groups opened, 2 needed"), "{s}");
        assert!(s.contains("age age1xyz: no identity matches"), "{s}");
        assert_eq!(e.exit_code(), ExitCode::NoKey);
        assert!(e.hint().contains("SOPS_AGE_KEY_FILE"));
    }

    #[test]
    fn every_error_names_its_file() {
        let e = Error::MacMismatch {
            file: "x.env".into(),
        };
        assert_eq!(e.file(), Some("x.env"));
        assert!(e.to_string().starts_with("x.env"));
    }
}
