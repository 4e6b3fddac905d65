//! The SOPS message authentication code.
//!
//! SHA-512 over the byte forms of the tree's values (no keys, no separators,
//! comments excluded) in walk order across all documents, printed as upper-case
//! hex. With `mac_only_encrypted` the hash is seeded with SHA-256("sops") and
//! covers encrypted values only. The byte forms are sops' `ToBytes`: raw string
//! bytes, decimal ints, Go's shortest fixed-notation floats, `True`/`False`,
//! and RFC 3339 nano times.

use std::borrow::Cow;

use sha2::{Digest, Sha256, Sha512};

use super::gofmt::float_f;
use super::tree::Value;

/// The bytes a leaf contributes to the MAC, or `None` for values that contribute nothing.
pub fn value_bytes(v: &Value) -> Option<Cow<'_, [u8]>> {
    match v {
        Value::Str(s) => Some(Cow::Borrowed(s.as_bytes())),
        Value::Int(i) => Some(Cow::Owned(i.to_string().into_bytes())),
        Value::Float(f) => Some(Cow::Owned(float_f(*f).into_bytes())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { b"True" } else { b"False" })),
        Value::Time(t) => Some(Cow::Owned(t.rfc3339_nano().into_bytes())),
        Value::Null | Value::Uint(_) | Value::Comment(_) | Value::Map(_) | Value::List(_) => None,
    }
}

/// Accumulates the MAC during the walk.
pub struct MacHasher(Sha512);

impl MacHasher {
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut h = Sha512::new();
        if mac_only_encrypted {
            h.update(Sha256::digest(b"sops"));
        }
        MacHasher(h)
    }

    pub fn add(&mut self, v: &Value) {
        if let Some(b) = value_bytes(v) {
            self.0.update(b);
        }
    }

    /// Upper-case hex, as sops' `%X`.
    pub fn finish(self) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let digest = self.0.finalize();
        let mut out = String::with_capacity(128);
        for b in digest {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out
    }
}

/// Compares two MAC strings without an early exit.
pub fn mac_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_of_nothing_and_the_mac_only_seed() {
        // SHA-512 of the empty string.
        assert!(
            MacHasher::new(false)
                .finish()
                .starts_with("CF83E1357EEFB8BD")
        );
        assert_ne!(
            MacHasher::new(true).finish(),
            MacHasher::new(false).finish()
        );
    }

    #[test]
    fn comments_and_nulls_do_not_count() {
        let mut a = MacHasher::new(false);
        a.add(&Value::str("x"));
        let mut b = MacHasher::new(false);
        b.add(&Value::Null);
        b.add(&Value::str("x"));
        b.add(&Value::Comment(super::super::tree::SecretBytes::from_text(
            "c",
        )));
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn bools_hash_title_case() {
        let mut a = MacHasher::new(false);
        a.add(&Value::Bool(true));
        let mut b = MacHasher::new(false);
        b.add(&Value::str("True"));
        assert_eq!(a.finish(), b.finish());
    }
}
