//! The SOPS decryption engine: from the bytes of an encrypted file to a
//! verified plaintext tree.
//!
//! `decrypt` runs sops' pipeline: the store reads documents and metadata,
//! the keyring recovers the data key from the key groups, the walk decrypts
//! every value with its key path as AAD while hashing, and the MAC (always
//! checked; there is no switch to skip it) must match before anything is
//! returned. Callers then print the tree with `store::emit` or build Secrets
//! from it.

pub mod cipher;
pub mod gofmt;
pub mod mac;
pub mod metadata;
pub mod rules;
pub mod store;
pub mod time;
pub mod tree;
pub mod walk;

use crate::error::{Error, Result};
use crate::keys::Keyring;
use metadata::Metadata;
use store::Format;
use store::json::Numbers;
use tree::Branch;

/// Largest encrypted file accepted (see README, "Limits").
pub const MAX_INPUT: usize = 64 << 20;

/// A decrypted, verified file.
pub struct Decrypted {
    pub docs: Vec<Branch>,
    /// Which key opened each key group (for `--verbose`).
    pub opened_by: Vec<String>,
    /// Encrypted comments that could not be opened and were kept as they are.
    pub unopened_comments: usize,
}

/// The sops version that wrote the file, as (major, minor, patch).
fn version_tuple(v: &str) -> (u32, u32, u32) {
    let mut it = v
        .trim()
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// Reads, unlocks, decrypts and verifies `input` (named `file` in messages).
pub fn decrypt(file: &str, input: &[u8], format: Format, keyring: &Keyring) -> Result<Decrypted> {
    if input.len() > MAX_INPUT {
        return Err(Error::malformed(
            file,
            format!(
                "the file is larger than the {} MiB limit for SOPS files",
                MAX_INPUT >> 20
            ),
        ));
    }
    let loaded = store::load(format, input).map_err(|what| Error::malformed(file, what))?;
    let Some(raw_meta) = &loaded.meta else {
        return Err(Error::NotEncrypted {
            file: file.into(),
            format: format.name(),
        });
    };
    let meta = Metadata::parse(raw_meta).map_err(|what| Error::malformed(file, what))?;
    let opened = keyring.recover(file, &meta)?;

    let (mut docs, retry) = match loaded.json {
        None => (loaded.docs, None),
        Some(json) => {
            // sops ≤ 3.13.1 read every JSON number as float64; 3.13.2 reads integers as int64.
            let first = if version_tuple(&meta.version) >= (3, 13, 2) {
                Numbers::IntsWhenIntegral
            } else {
                Numbers::AllFloat
            };
            let other = if first == Numbers::AllFloat {
                Numbers::IntsWhenIntegral
            } else {
                Numbers::AllFloat
            };
            let doc = json
                .into_branch(first)
                .map_err(|what| Error::malformed(file, what))?;
            (vec![doc], Some(other))
        }
    };
    let report = match walk::decrypt_documents(file, &mut docs, &meta, &opened.data_key) {
        Err(Error::MacMismatch { .. }) if retry.is_some() => {
            // Unencrypted JSON numbers hash differently under the two typings: try the other.
            let other = retry.unwrap_or(Numbers::AllFloat);
            let json = store::json::load(input).map_err(|what| Error::malformed(file, what))?;
            docs = vec![
                json.into_branch(other)
                    .map_err(|what| Error::malformed(file, what))?,
            ];
            walk::decrypt_documents(file, &mut docs, &meta, &opened.data_key)?
        }
        r => r?,
    };
    Ok(Decrypted {
        docs,
        opened_by: opened.opened_by,
        unopened_comments: report.unopened_comments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare() {
        assert!(version_tuple("3.13.2") >= (3, 13, 2));
        assert!(version_tuple("3.13.10") >= (3, 13, 2));
        assert!(version_tuple("3.11.0") < (3, 13, 2));
        assert!(version_tuple("1.13") < (3, 13, 2));
        assert!(version_tuple("") < (3, 13, 2));
    }
}
