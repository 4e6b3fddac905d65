//! age identities and the unwrap of sops' age key entries.
//!
//! sops stores each age entry as an armored age file whose payload is the
//! 32-byte data key (or a 33-byte Shamir share). Identities come from the
//! same places sops reads (see `keys::sources`): X25519 identity lines and
//! OpenSSH ed25519/RSA private keys. Plugin and post-quantum identities are
//! recognised and reported as unsupported rather than rejected as garbage.

use std::io::Read;

use age::armor::ArmoredReader;

use crate::sops::tree::SecretBytes;

/// One identity, with a description for messages (never its secret).
pub struct AgeIdentity {
    /// Where it came from (`SOPS_AGE_KEY_FILE=/path`, …).
    pub source: String,
    /// How to describe it: an X25519 identity is shown by its recipient,
    /// computed only when a message needs it (a scalar multiplication).
    describe: Describe,
    inner: Box<dyn age::Identity + Send + Sync>,
}

enum Describe {
    X25519(age::x25519::Identity),
    Text(String),
}

impl AgeIdentity {
    /// Its recipient (`age1…`) or a description (`ssh key /path`).
    pub fn label(&self) -> String {
        match &self.describe {
            Describe::X25519(id) => id.to_public().to_string(),
            Describe::Text(t) => t.clone(),
        }
    }
}

/// Identities parsed from one source, plus lines that name unsupported kinds.
#[derive(Default)]
pub struct Parsed {
    pub identities: Vec<AgeIdentity>,
    pub unsupported: Vec<String>,
}

/// Parses an identity list as sops does: one or more whitespace-separated
/// keys per line, `#` comments and blank lines skipped.
pub fn parse_identities(text: &str, source: &str) -> Result<Parsed, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with("age-encryption.org") || trimmed.starts_with("-----BEGIN AGE") {
        return Err(
            "is a passphrase-encrypted age identity file; krm-sops never prompts: decrypt it first or use SOPS_AGE_KEY_CMD"
                .into(),
        );
    }
    let mut out = Parsed::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            if word.starts_with("AGE-SECRET-KEY-PQ-1") {
                out.unsupported
                    .push("post-quantum (ML-KEM) age identity: not supported yet".into());
            } else if word.starts_with("AGE-PLUGIN-") {
                out.unsupported
                    .push("age plugin identity: plugins are not supported".into());
            } else if let Ok(id) = word.parse::<age::x25519::Identity>() {
                out.identities.push(AgeIdentity {
                    source: source.to_string(),
                    describe: Describe::X25519(id.clone()),
                    inner: Box::new(id),
                });
            } else {
                return Err(format!(
                    "line {} is not an age identity (AGE-SECRET-KEY-1…)",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Parses an OpenSSH private key (ed25519 or RSA) used as an age identity.
pub fn parse_ssh(data: &[u8], path: &str, source: &str) -> Result<AgeIdentity, String> {
    let id = age::ssh::Identity::from_buffer(data, Some(path.to_string()))
        .map_err(|_| "is not an OpenSSH private key that age can use".to_string())?;
    match &id {
        age::ssh::Identity::Unencrypted(_) => Ok(AgeIdentity {
            source: source.to_string(),
            describe: Describe::Text(format!("ssh key {path}")),
            inner: Box::new(id),
        }),
        age::ssh::Identity::Encrypted(_) => Err(
            "is a passphrase-protected SSH key; krm-sops never prompts: use an unprotected key"
                .into(),
        ),
        age::ssh::Identity::Unsupported(_) => {
            Err("is an SSH key type age cannot use (only ssh-ed25519 and ssh-rsa)".into())
        }
    }
}

/// Why an age entry could not be opened.
pub fn unsupported_recipient(recipient: &str) -> Option<&'static str> {
    if recipient.starts_with("age1pq1") {
        Some("post-quantum (ML-KEM) age recipient: not supported yet")
    } else if recipient.starts_with("age1") && recipient.len() > 5 && !is_x25519(recipient) {
        Some("age plugin recipient: plugins are not supported")
    } else {
        None
    }
}

fn is_x25519(recipient: &str) -> bool {
    recipient.parse::<age::x25519::Recipient>().is_ok()
}

/// Tries each identity in turn on one armored age entry.
pub fn decrypt<'a>(
    enc: &str,
    ids: &'a [AgeIdentity],
) -> Result<(SecretBytes, &'a AgeIdentity), String> {
    if ids.is_empty() {
        return Err("no age identity loaded".into());
    }
    for id in ids {
        let dec = age::Decryptor::new(ArmoredReader::new(enc.as_bytes()))
            .map_err(|e| format!("the entry is not a valid age file: {e}"))?;
        match dec.decrypt(std::iter::once(id.inner.as_ref() as &dyn age::Identity)) {
            Ok(mut reader) => {
                let mut out = Vec::with_capacity(33);
                reader
                    .by_ref()
                    .take(4096)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("age payload decryption failed: {e}"))?;
                return Ok((SecretBytes::new(out), id));
            }
            Err(age::DecryptError::NoMatchingKeys) => continue,
            Err(e) => return Err(format!("age decryption failed: {e}")),
        }
    }
    Err(format!(
        "none of the {} loaded age identit{} matches",
        ids.len(),
        if ids.len() == 1 { "y" } else { "ies" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // sops' own test identity (age/keysource_test.go).
    const ID: &str = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";

    #[test]
    fn identity_lists_like_sops() {
        let p = parse_identities(&format!("# comment\n\n{ID} {ID}\n"), "t").unwrap();
        assert_eq!(p.identities.len(), 2);
        assert_eq!(
            p.identities[0].label(),
            "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun"
        );
        let e = parse_identities("hello world\n", "t").err().unwrap();
        assert!(e.contains("line 1"), "{e}");
        assert!(!e.contains("hello"), "never echo key file contents");
        let p = parse_identities("AGE-PLUGIN-YUBIKEY-1XYZ\n", "t").unwrap();
        assert_eq!(p.unsupported.len(), 1);
        assert!(parse_identities("age-encryption.org/v1\n", "t").is_err());
    }

    #[test]
    fn recipient_kinds() {
        assert!(unsupported_recipient("age1pq1abcdef").is_some());
        assert!(
            unsupported_recipient("age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun")
                .is_none()
        );
        assert!(unsupported_recipient("age1yubikey1qwerty").is_some());
        assert!(unsupported_recipient("ssh-ed25519 AAAA").is_none());
    }
}
