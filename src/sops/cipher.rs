//! The SOPS value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! Each encrypted leaf is AES-256-GCM under the file's data key with sops'
//! non-standard 32-byte IV, the tag stored apart from the ciphertext, and the
//! value's key path (`a:b:c:`) as additional data. The `type` field says how
//! the plaintext bytes turn back into a typed value. Parsing follows sops'
//! regular expression exactly (anchored at the start only, greedy fields).

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::generic_array::typenum::{U12, U16, U32};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{AesGcm, aes::Aes256};
use base64::Engine as _;
use zeroize::Zeroizing;

use super::time::Timestamp;
use super::tree::{SecretBytes, Value};

/// The 32-byte key that encrypts every value of a file.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A data key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<DataKey> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Why a value could not be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub enum CipherError {
    /// Not of the `ENC[AES256_GCM,…]` form, or a field is not valid base64.
    Format(String),
    /// AES-GCM authentication failed.
    Auth,
    /// The plaintext does not parse as its declared type.
    Type(String),
}

/// Standard base64 as Go's `StdEncoding.DecodeString` reads it: padding
/// required, CR/LF skipped, non-zero trailing bits tolerated.
pub(crate) fn go_base64(s: &str) -> Option<Vec<u8>> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    );
    if s.contains(['\r', '\n']) {
        let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        ENGINE.decode(cleaned).ok()
    } else {
        ENGINE.decode(s).ok()
    }
}

/// The four fields of `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, split as sops'
/// regular expression (anchored at the start, greedy `(.+)` groups, no newlines)
/// splits them: each field ends at the last separator that still lets the rest match.
fn split_fields(s: &str) -> Option<[&str; 4]> {
    let line = s.split('\n').next()?;
    let rest = line.strip_prefix("ENC[AES256_GCM,data:")?;
    let end = rest.rfind(']')?;
    let body = &rest[..end];
    let t = body.rfind(",type:")?;
    let g = body[..t].rfind(",tag:")?;
    let i = body[..g].rfind(",iv:")?;
    let fields = [&body[..i], &body[i + 4..g], &body[g + 5..t], &body[t + 6..]];
    fields.iter().all(|f| !f.is_empty()).then_some(fields)
}

/// The fields of an `ENC[…]` string.
pub struct Encrypted {
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    pub kind: String,
}

/// True when `s` has the shape of a sops-encrypted value.
pub fn looks_encrypted(s: &[u8]) -> bool {
    s.starts_with(b"ENC[AES256_GCM,")
}

impl Encrypted {
    /// Parses the `ENC[…]` form (never logs or returns the input itself).
    pub fn parse(s: &str) -> Result<Encrypted, CipherError> {
        let [data, iv, tag, kind] = split_fields(s).ok_or_else(|| {
            CipherError::Format("value does not match the ENC[AES256_GCM,…] format".into())
        })?;
        let field = |text: &str, name: &str| {
            go_base64(text)
                .ok_or_else(|| CipherError::Format(format!("{name} is not valid base64")))
        };
        Ok(Encrypted {
            data: field(data, "data")?,
            iv: field(iv, "iv")?,
            tag: field(tag, "tag")?,
            kind: kind.to_string(),
        })
    }

    /// Decrypts to the raw plaintext bytes, checking the tag over `aad`.
    pub fn open(&self, key: &DataKey, aad: &[u8]) -> Result<SecretBytes, CipherError> {
        if self.tag.len() != 16 {
            return Err(CipherError::Auth);
        }
        let mut buf = Zeroizing::new(self.data.clone());
        let tag = GenericArray::from_slice(&self.tag);
        let k = GenericArray::from_slice(key.as_bytes());
        let ok = match self.iv.len() {
            32 => AesGcm::<Aes256, U32>::new(k).decrypt_in_place_detached(
                GenericArray::from_slice(&self.iv),
                aad,
                &mut buf,
                tag,
            ),
            16 => AesGcm::<Aes256, U16>::new(k).decrypt_in_place_detached(
                GenericArray::from_slice(&self.iv),
                aad,
                &mut buf,
                tag,
            ),
            12 => AesGcm::<Aes256, U12>::new(k).decrypt_in_place_detached(
                GenericArray::from_slice(&self.iv),
                aad,
                &mut buf,
                tag,
            ),
            n => {
                return Err(CipherError::Format(format!(
                    "unsupported IV length {n} (sops writes 32 bytes)"
                )));
            }
        };
        ok.map_err(|_| CipherError::Auth)?;
        Ok(SecretBytes::new(std::mem::take(&mut *buf)))
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.Atoi` (base 10, optional sign, int64 range).
pub fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms sops writes, plus
/// `Inf`/`Infinity`/`NaN` in any case.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        let v = if lower == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return Some(if s.starts_with('-') { -v } else { v });
    }
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Turns decrypted bytes into the value their `type` names.
fn typed(kind: &str, plain: SecretBytes) -> Result<Value, CipherError> {
    let text = || {
        plain
            .as_str()
            .ok_or_else(|| CipherError::Type(format!("{kind} plaintext is not UTF-8")))
    };
    Ok(match kind {
        "str" | "bytes" => Value::Str(plain),
        "comment" => Value::Comment(plain),
        "int" => Value::Int(
            parse_go_int(text()?)
                .ok_or_else(|| CipherError::Type("invalid int plaintext".into()))?,
        ),
        "float" => Value::Float(
            parse_go_float(text()?)
                .ok_or_else(|| CipherError::Type("invalid float plaintext".into()))?,
        ),
        "bool" => Value::Bool(
            parse_go_bool(text()?)
                .ok_or_else(|| CipherError::Type("invalid bool plaintext".into()))?,
        ),
        "time" => Value::Time(
            Timestamp::parse_rfc3339(text()?)
                .ok_or_else(|| CipherError::Type("invalid time plaintext".into()))?,
        ),
        other => {
            return Err(CipherError::Type(format!(
                "unknown datatype {:?}",
                other.chars().take(20).collect::<String>()
            )));
        }
    })
}

/// Decrypts one stored value (`""` stays `""`, as sops never encrypts it).
pub fn decrypt_value(stored: &str, key: &DataKey, aad: &str) -> Result<Value, CipherError> {
    if stored.is_empty() {
        return Ok(Value::str(""));
    }
    let enc = Encrypted::parse(stored)?;
    let plain = enc.open(key, aad.as_bytes())?;
    typed(&enc.kind, plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_f() -> DataKey {
        DataKey::from_slice(&[b'f'; 32]).unwrap()
    }

    #[test]
    fn sops_test_vector() {
        // aes/cipher_test.go TestDecrypt: key 32 × 'f', AAD "bar:".
        let v = decrypt_value(
            "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]",
            &key_f(),
            "bar:",
        )
        .unwrap();
        assert_eq!(v, Value::str("foo"));
    }

    #[test]
    fn wrong_aad_or_tampered_tag_fails_authentication() {
        let s = "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]";
        assert_eq!(decrypt_value(s, &key_f(), "baz:"), Err(CipherError::Auth));
        let t = s.replace("t5z2", "t5z3");
        assert_eq!(decrypt_value(&t, &key_f(), "bar:"), Err(CipherError::Auth));
    }

    #[test]
    fn malformed_values_are_format_errors() {
        for s in [
            "ENC[AES256_GCM,data:,iv:a,tag:b,type:str]",
            "ENC[AES256_GCM,data:@@,iv:AAAA,tag:AAAA,type:str]",
            "plain",
        ] {
            assert!(matches!(
                decrypt_value(s, &key_f(), ""),
                Err(CipherError::Format(_))
            ));
        }
        assert_eq!(decrypt_value("", &key_f(), "x:"), Ok(Value::str("")));
    }

    #[test]
    fn fields_split_like_the_sops_regex() {
        assert_eq!(
            split_fields("ENC[AES256_GCM,data:AA,iv:BB,tag:CC,type:str] trailing"),
            Some(["AA", "BB", "CC", "str"])
        );
        assert_eq!(
            split_fields("ENC[AES256_GCM,data:AA,iv:BB,tag:CC,type:]"),
            None
        );
        assert_eq!(split_fields("ENC[AES256_GCM,data:AA,iv:BB,type:str]"), None);
        assert_eq!(
            split_fields("xENC[AES256_GCM,data:AA,iv:BB,tag:CC,type:str]"),
            None
        );
    }

    #[test]
    fn go_number_parsing() {
        assert_eq!(parse_go_int("+42"), Some(42));
        assert_eq!(parse_go_int("-0"), Some(0));
        assert_eq!(parse_go_int("4_2"), None);
        assert_eq!(parse_go_int("99999999999999999999"), None);
        assert_eq!(parse_go_float("25.4"), Some(25.4));
        assert_eq!(parse_go_float("+Inf"), Some(f64::INFINITY));
        assert!(parse_go_float("NaN").unwrap().is_nan());
        assert_eq!(parse_go_float("0x10"), None);
        assert_eq!(parse_go_bool("True"), Some(true));
        assert_eq!(parse_go_bool("yes"), None);
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(go_base64("Zm9v\nYmFy"), Some(b"foobar".to_vec()));
        assert_eq!(go_base64("Zm9vYg"), None);
        assert_eq!(go_base64("Zm9vYh=="), Some(b"foob".to_vec()));
    }
}
