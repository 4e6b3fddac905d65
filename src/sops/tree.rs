//! The in-memory SOPS tree every store reads into and prints from.
//!
//! A file is a list of documents (only YAML has more than one); a document is
//! an ordered branch of items, each a keyed value or a comment. Values are a
//! closed enum instead of sops' `interface{}`: the walk in `sops::decrypt`
//! matches on it exhaustively. String values and comments hold raw bytes
//! (the binary store and `!!binary` can carry invalid UTF-8) in zeroizing
//! buffers, because after decryption they are plaintext.

use std::fmt;

use zeroize::Zeroizing;

use super::time::Timestamp;

/// Bytes that may be plaintext: wiped on drop, never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    pub fn from_text(s: &str) -> Self {
        SecretBytes::new(s.as_bytes().to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The bytes as text, if they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// A value in the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A YAML integer above `i64::MAX`: readable, but sops cannot encrypt or hash it.
    Uint(u64),
    Float(f64),
    Str(SecretBytes),
    Time(Timestamp),
    /// A comment stored as a list element (sops encrypts list comments in place).
    Comment(SecretBytes),
    Map(Branch),
    List(Vec<Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(SecretBytes::from_text(s))
    }

    /// The Go type name sops would report for this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Time(_) => "time.Time",
            Value::Comment(_) => "sops.Comment",
            Value::Map(_) => "sops.TreeBranch",
            Value::List(_) => "[]interface {}",
        }
    }
}

/// One entry of a mapping: a keyed value, or a comment standing between entries.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Entry(String, Value),
    Comment(SecretBytes),
}

/// An ordered mapping, duplicates and comments included, as sops keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Branch(pub Vec<Item>);

impl Branch {
    pub fn new() -> Self {
        Branch(Vec::new())
    }

    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.0.push(Item::Entry(key.into(), value));
    }

    pub fn push_comment(&mut self, text: SecretBytes) {
        self.0.push(Item::Comment(text));
    }

    /// Keyed entries only, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().filter_map(|i| match i {
            Item::Entry(k, v) => Some((k.as_str(), v)),
            Item::Comment(_) => None,
        })
    }

    /// The first value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_bytes_never_print_their_contents() {
        let s = SecretBytes::from_text("hunter2");
        assert_eq!(format!("{s:?}"), "SecretBytes(7 bytes)");
        let v = Value::Str(s);
        assert!(!format!("{v:?}").contains("hunter2"));
    }

    #[test]
    fn branch_lookup_skips_comments() {
        let mut b = Branch::new();
        b.push_comment(SecretBytes::from_text(" note"));
        b.push("a", Value::Int(1));
        b.push("a", Value::Int(2));
        assert_eq!(b.get("a"), Some(&Value::Int(1)));
        assert_eq!(b.entries().count(), 2);
    }
}
