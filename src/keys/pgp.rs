//! OpenPGP secret keys (rPGP) and the unwrap of sops' PGP key entries.
//!
//! A sops `pgp` entry is an armored OpenPGP message whose literal data is the
//! 32-byte data key (or a 33-byte Shamir share). We match its PKESK packets
//! against the loaded secret keys by key ID, unlock the matching (sub)key at
//! most once per process (S2K with gpg's defaults costs ~250 ms), recover the
//! session key — with our own ElGamal unwrap where rPGP has none — and let
//! rPGP decrypt the data packet (SEIPD v1/v2, GnuPG's OCB packet enabled),
//! decompressing gpg's ZLIB/ZIP/BZip2 output.

use std::io::Read;
use std::sync::OnceLock;

use pgp::composed::{
    DecryptionOptions, Esk, Message, PlainSessionKey, PublicOrSecret, SignedSecretKey, TheRing,
};
use pgp::packet::{PublicKeyEncryptedSessionKey, SecretKey, SecretSubkey};
use pgp::types::{
    DecryptionKey, EskType, KeyDetails, Password, PkeskBytes, PlainSecretParams, PublicParams,
    SecretParams,
};

use super::elgamal;
use crate::sops::tree::SecretBytes;

/// One decryption-capable component (primary key or subkey), unlocked lazily.
enum Component {
    Primary(SecretKey),
    Sub(SecretSubkey),
}

impl Component {
    fn is_locked(&self) -> bool {
        match self {
            Component::Primary(k) => k.secret_params().is_encrypted(),
            Component::Sub(k) => k.secret_params().is_encrypted(),
        }
    }

    fn unlocked(&self, pw: &Password) -> Result<Component, String> {
        let r = match self {
            Component::Primary(k) => {
                let mut k = k.clone();
                k.remove_password(pw).map(|_| Component::Primary(k))
            }
            Component::Sub(k) => {
                let mut k = k.clone();
                k.remove_password(pw).map(|_| Component::Sub(k))
            }
        };
        r.map_err(|_| "wrong passphrase (SOPS_PGP_PASSPHRASE does not unlock it)".to_string())
    }

    fn matches(&self, pkesk: &PublicKeyEncryptedSessionKey) -> bool {
        match self {
            Component::Primary(k) => pkesk.match_identity(k.public_key()),
            Component::Sub(k) => pkesk.match_identity(k.public_key()),
        }
    }

    fn fingerprint(&self) -> String {
        match self {
            Component::Primary(k) => format!("{:X}", k.public_key().fingerprint()),
            Component::Sub(k) => format!("{:X}", k.public_key().fingerprint()),
        }
    }

    fn public_params(&self) -> &PublicParams {
        match self {
            Component::Primary(k) => k.public_key().public_params(),
            Component::Sub(k) => k.public_key().public_params(),
        }
    }

    fn secret_params(&self) -> &SecretParams {
        match self {
            Component::Primary(k) => k.secret_params(),
            Component::Sub(k) => k.secret_params(),
        }
    }

    /// Recovers the session key of a PKESK with this (unlocked) component.
    fn session_key(&self, values: &PkeskBytes, typ: EskType) -> Result<PlainSessionKey, String> {
        if let (PublicParams::Elgamal(params), PkeskBytes::Elgamal { first, second }) =
            (self.public_params(), values)
        {
            let SecretParams::Plain(PlainSecretParams::Elgamal(sk)) = self.secret_params() else {
                return Err("ElGamal key material is not available".into());
            };
            return elgamal::unwrap(params, sk.as_bytes(), first.as_ref(), second.as_ref());
        }
        let empty = Password::empty();
        let r = match self {
            Component::Primary(k) => k.decrypt(&empty, values, typ),
            Component::Sub(k) => k.decrypt(&empty, values, typ),
        };
        match r {
            Ok(Ok(sk)) => Ok(sk),
            Ok(Err(e)) | Err(e) => Err(format!("session key decryption failed: {e}")),
        }
    }
}

/// A secret key loaded from the environment, with its unlock cache.
pub struct PgpKey {
    /// Where it came from (`SOPS_PGP_PRIVATE_KEY_FILE=/path`, …), for messages.
    pub source: String,
    /// Primary fingerprint, upper-case hex.
    pub fingerprint: String,
    components: Vec<(Component, OnceLock<Result<Component, String>>)>,
}

impl PgpKey {
    fn from_signed(key: SignedSecretKey, source: &str) -> PgpKey {
        let fingerprint = format!("{:X}", key.primary_key.public_key().fingerprint());
        let mut components = vec![(Component::Primary(key.primary_key), OnceLock::new())];
        for sub in key.secret_subkeys {
            components.push((Component::Sub(sub.key), OnceLock::new()));
        }
        PgpKey {
            source: source.to_string(),
            fingerprint,
            components,
        }
    }
}

impl PgpKey {
    /// Unlock attempts that failed (missing or wrong passphrase), for messages.
    pub fn unlock_failures(&self) -> Vec<String> {
        self.components
            .iter()
            .filter_map(|(_, cache)| match cache.get() {
                Some(Err(why)) => Some(format!("{}: key {}: {why}", self.source, self.fingerprint)),
                _ => None,
            })
            .collect()
    }
}

/// Splits text holding one or more armored blocks into the private-key blocks.
fn private_blocks(text: &str) -> Vec<&str> {
    const BEGIN: &str = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
    const END: &str = "-----END PGP PRIVATE KEY BLOCK-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let Some(end) = after.find(END) else {
            out.push(after);
            break;
        };
        out.push(&after[..end + END.len()]);
        rest = &after[end + END.len()..];
    }
    out
}

/// Loads every secret key in `data` (armored blocks, possibly several and
/// concatenated, or binary packets). Public keys are ignored.
pub fn load_keys(data: &[u8], source: &str) -> Result<Vec<PgpKey>, String> {
    let mut keys = Vec::new();
    let mut parse_many = |parsed: Vec<pgp::errors::Result<PublicOrSecret>>| -> Result<(), String> {
        for k in parsed {
            match k {
                Ok(PublicOrSecret::Secret(sk)) => keys.push(PgpKey::from_signed(sk, source)),
                Ok(PublicOrSecret::Public(_)) => {}
                Err(e) => return Err(format!("malformed OpenPGP secret key: {e}")),
            }
        }
        Ok(())
    };
    match std::str::from_utf8(data) {
        Ok(text) if text.contains("-----BEGIN PGP") => {
            for block in private_blocks(text) {
                let (iter, _) = PublicOrSecret::from_armor_many(block.as_bytes())
                    .map_err(|e| format!("malformed armored OpenPGP key: {e}"))?;
                parse_many(iter.collect())?;
            }
        }
        Ok(text) if text.trim().is_empty() => return Err("empty (no OpenPGP key in it)".into()),
        _ => {
            let iter = PublicOrSecret::from_bytes_many(data)
                .map_err(|e| format!("not an OpenPGP key: {e}"))?;
            parse_many(iter.collect())?;
        }
    }
    if keys.is_empty() {
        return Err("contains no OpenPGP secret key (only public keys?)".into());
    }
    Ok(keys)
}

/// The result of trying in-process keys on one entry.
pub enum PgpOutcome {
    /// Opened: the plaintext and a description of the key that opened it.
    Opened(SecretBytes, String),
    /// Not opened; the reason, and whether any loaded key matched a recipient.
    Failed { reason: String, matched: bool },
}

/// Key IDs the message is addressed to, for messages ("0x1234…").
pub fn recipients(enc: &str) -> Vec<String> {
    let Ok((msg, _)) = Message::from_string(enc) else {
        return Vec::new();
    };
    let Message::Encrypted { esk, .. } = &msg else {
        return Vec::new();
    };
    esk.iter()
        .filter_map(|e| match e {
            Esk::PublicKeyEncryptedSessionKey(p) => {
                p.id().ok().map(|id| id.to_string().to_ascii_uppercase())
            }
            Esk::SymKeyEncryptedSessionKey(_) => None,
        })
        .collect()
}

/// Decrypts the literal payload of `enc` with a session key.
fn open_with(enc: &str, sk: PlainSessionKey) -> Result<SecretBytes, String> {
    let (msg, _) = Message::from_string(enc).map_err(|e| format!("not an OpenPGP message: {e}"))?;
    let ring = TheRing {
        session_keys: vec![sk],
        decrypt_options: DecryptionOptions::new().enable_gnupg_aead(),
        ..Default::default()
    };
    let (mut m, _) = msg
        .decrypt_the_ring(ring, true)
        .map_err(|e| format!("message decryption failed: {e}"))?;
    if m.is_compressed() {
        m = m
            .decompress()
            .map_err(|e| format!("decompression failed: {e}"))?;
    }
    let mut out = Vec::with_capacity(33);
    // A data key is 32 bytes, a Shamir share 33: never read an unbounded payload.
    m.by_ref()
        .take(4096)
        .read_to_end(&mut out)
        .map_err(|e| format!("message decryption failed: {e}"))?;
    Ok(SecretBytes::new(out))
}

/// Tries every loaded key on one sops `pgp` entry.
pub fn decrypt(enc: &str, keys: &[PgpKey], passphrase: Option<&str>) -> PgpOutcome {
    let parsed = Message::from_string(enc);
    let (msg, _) = match parsed {
        Ok(m) => m,
        Err(e) => {
            return PgpOutcome::Failed {
                reason: format!("the entry is not an OpenPGP message: {e}"),
                matched: false,
            };
        }
    };
    let Message::Encrypted { esk, .. } = msg else {
        return PgpOutcome::Failed {
            reason: "the entry is not an encrypted OpenPGP message".into(),
            matched: false,
        };
    };
    let mut last_err: Option<String> = None;
    for e in &esk {
        let Esk::PublicKeyEncryptedSessionKey(pkesk) = e else {
            continue;
        };
        let Ok(values) = pkesk.values() else { continue };
        let typ = match pkesk.version() {
            pgp::types::PkeskVersion::V3 => EskType::V3_4,
            pgp::types::PkeskVersion::V6 => EskType::V6,
            _ => continue,
        };
        for key in keys {
            for (component, cache) in &key.components {
                if !component.matches(pkesk) {
                    continue;
                }
                let unlocked = if component.is_locked() {
                    let cached = cache.get_or_init(|| match passphrase {
                        Some(p) => component.unlocked(&Password::from(p)),
                        None => Err(
                            "the secret key is passphrase-protected and SOPS_PGP_PASSPHRASE is not set"
                                .into(),
                        ),
                    });
                    match cached {
                        Ok(c) => c,
                        Err(why) => {
                            last_err = Some(format!("{} ({}): {why}", key.fingerprint, key.source));
                            continue;
                        }
                    }
                } else {
                    component
                };
                let opened = unlocked
                    .session_key(values, typ)
                    .and_then(|sk| open_with(enc, sk));
                match opened {
                    Ok(data) => {
                        return PgpOutcome::Opened(
                            data,
                            format!(
                                "pgp key {} (subkey {}, from {})",
                                key.fingerprint,
                                component.fingerprint(),
                                key.source
                            ),
                        );
                    }
                    Err(why) => {
                        last_err = Some(format!("{} ({}): {why}", key.fingerprint, key.source));
                    }
                }
            }
        }
    }
    match last_err {
        Some(reason) => PgpOutcome::Failed {
            reason,
            matched: true,
        },
        None => PgpOutcome::Failed {
            reason: if keys.is_empty() {
                "no OpenPGP secret key loaded".into()
            } else {
                format!(
                    "none of the {} loaded OpenPGP secret key(s) is a recipient",
                    keys.len()
                )
            },
            matched: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_concatenated_armor_and_skips_public_blocks() {
        let text = "junk\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----\n\
                    -----BEGIN PGP PRIVATE KEY BLOCK-----\na\n-----END PGP PRIVATE KEY BLOCK-----\n\
                    -----BEGIN PGP PRIVATE KEY BLOCK-----\nb\n-----END PGP PRIVATE KEY BLOCK-----";
        let blocks = private_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("\nb\n"));
    }

    #[test]
    fn empty_and_garbage_key_data_are_clear_errors() {
        assert!(
            load_keys(b"  \n", "t")
                .err()
                .is_some_and(|e| e.contains("empty"))
        );
        assert!(load_keys(b"\x99\x01garbage", "t").is_err());
    }
}
