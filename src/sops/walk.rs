//! The decrypting walk over a SOPS tree, and the MAC check that ends it.
//!
//! Documents are walked in order, depth first in file order, as sops'
//! `Tree.Decrypt` does. Each leaf gets its key path (list indices never count)
//! as AES-GCM additional data, the file's rule decides whether it must be
//! encrypted, and every non-null, non-comment value enters the MAC. Comments
//! are decrypted when the rule covers them and kept as they are when they do
//! not open (sops does the same, with a warning). The walk never stops
//! half-way with partial output: it either returns a fully verified tree or
//! an error.

use super::cipher::{CipherError, DataKey, decrypt_value};
use super::mac::{MacHasher, mac_eq};
use super::metadata::Metadata;
use super::rules::Rules;
use super::tree::{Branch, Item, SecretBytes, Value};
use crate::error::{Error, Result};

/// One step of the path from the document root.
enum Seg {
    Key(String),
    Index(usize),
}

struct Walker<'a> {
    file: &'a str,
    rules: &'a Rules,
    key: &'a DataKey,
    mac: MacHasher,
    mac_only_encrypted: bool,
    track_comments: bool,
    /// Keys (and list indices, for messages) from the root to the current node.
    path: Vec<Seg>,
    /// Comment texts in force at each nesting level (only kept for comment-regex rules).
    comments: Vec<Vec<Vec<u8>>>,
    /// Comments that stayed encrypted because no path opened them.
    pub unopened_comments: usize,
}

impl Walker<'_> {
    fn keys(&self) -> Vec<&str> {
        self.path
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect()
    }

    /// sops' AAD: the keys joined with `:`, plus a trailing `:`.
    fn aad(keys: &[&str]) -> String {
        let mut s = String::new();
        for k in keys {
            s.push_str(k);
            s.push(':');
        }
        if keys.is_empty() {
            s.push(':');
        }
        s
    }

    /// The path as a user reads it, e.g. `data.users[1].password`.
    fn display_path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if s.is_empty() {
            "(top level)".into()
        } else {
            s
        }
    }

    fn push_level(&mut self) {
        if self.track_comments {
            self.comments.push(Vec::new());
        }
    }

    fn pop_level(&mut self) {
        if self.track_comments {
            self.comments.pop();
        }
    }

    fn note_comment(&mut self, text: &SecretBytes) {
        if self.track_comments
            && let Some(level) = self.comments.last_mut()
        {
            level.push(text.as_bytes().to_vec());
        }
    }

    fn clear_level(&mut self) {
        if self.track_comments
            && let Some(level) = self.comments.last_mut()
        {
            level.clear();
        }
    }

    /// Decrypts a comment in place when the rule covers it; never hashed.
    fn comment(&mut self, text: &mut SecretBytes) {
        self.note_comment(text);
        let keys = self.keys();
        if !self.rules.should_encrypt(&keys, &self.comments, true) {
            return;
        }
        let Some(stored) = text.as_str() else {
            return;
        };
        // The containing mapping's path first, then its ancestors: a comment that
        // moved between nesting levels since it was encrypted still opens.
        for depth in (0..=keys.len()).rev() {
            match decrypt_value(stored, self.key, &Self::aad(&keys[..depth])) {
                Ok(Value::Comment(c) | Value::Str(c)) => {
                    *text = c;
                    return;
                }
                Ok(_) => return,
                Err(_) => continue,
            }
        }
        self.unopened_comments += 1;
    }

    fn branch(&mut self, b: &mut Branch) -> Result<()> {
        self.push_level();
        for item in &mut b.0 {
            match item {
                Item::Comment(text) => self.comment(text),
                Item::Entry(k, v) => {
                    self.path.push(Seg::Key(k.clone()));
                    let r = self.value(v);
                    self.path.pop();
                    r?;
                    self.clear_level();
                }
            }
        }
        self.pop_level();
        Ok(())
    }

    fn list(&mut self, l: &mut [Value]) -> Result<()> {
        self.push_level();
        for (i, v) in l.iter_mut().enumerate() {
            // sops clears the comment level after any element that was not a
            // comment when read (an encrypted list comment is read as a string).
            let was_comment = matches!(v, Value::Comment(_));
            self.path.push(Seg::Index(i));
            let r = self.value(v);
            self.path.pop();
            r?;
            if !was_comment {
                self.clear_level();
            }
        }
        self.pop_level();
        Ok(())
    }

    fn value(&mut self, v: &mut Value) -> Result<()> {
        match v {
            Value::Null => Ok(()),
            Value::Map(b) => self.branch(b),
            Value::List(l) => self.list(l),
            Value::Comment(text) => {
                self.comment(text);
                Ok(())
            }
            Value::Uint(_) => Err(Error::malformed(
                self.file,
                format!(
                    "the integer at {} does not fit in 64 bits (sops cannot process it)",
                    self.display_path()
                ),
            )),
            _ => self.leaf(v),
        }
    }

    fn leaf(&mut self, v: &mut Value) -> Result<()> {
        let keys = self.keys();
        let encrypted = self.rules.should_encrypt(&keys, &self.comments, false);
        if encrypted {
            let aad = Self::aad(&keys);
            let Value::Str(stored) = &*v else {
                return Err(Error::PlainValue {
                    file: self.file.into(),
                    path: self.display_path(),
                    found: v.type_name(),
                });
            };
            let stored = stored.as_str().unwrap_or("\u{fffd}");
            *v = decrypt_value(stored, self.key, &aad).map_err(|e| match e {
                CipherError::Auth => Error::ValueAuth {
                    file: self.file.into(),
                    path: self.display_path(),
                },
                CipherError::Format(_) if !super::cipher::looks_encrypted(stored.as_bytes()) => {
                    Error::PlainValue {
                        file: self.file.into(),
                        path: self.display_path(),
                        found: "string",
                    }
                }
                CipherError::Format(why) | CipherError::Type(why) => Error::malformed(
                    self.file,
                    format!("the encrypted value at {}: {why}", self.display_path()),
                ),
            })?;
        }
        if !self.mac_only_encrypted || encrypted {
            self.mac.add(v);
        }
        Ok(())
    }
}

/// What a successful walk reports besides the decrypted tree.
#[derive(Debug, Default)]
pub struct WalkReport {
    /// Encrypted comments no key path opened (left as they were, like sops).
    pub unopened_comments: usize,
}

/// Decrypts every document in place and verifies the MAC. On error the
/// documents may be partly decrypted: the caller must drop them unprinted.
pub fn decrypt_documents(
    file: &str,
    docs: &mut [Branch],
    meta: &Metadata,
    key: &DataKey,
) -> Result<WalkReport> {
    let mut w = Walker {
        file,
        rules: &meta.rules,
        key,
        mac: MacHasher::new(meta.mac_only_encrypted),
        mac_only_encrypted: meta.mac_only_encrypted,
        track_comments: meta.rules.uses_comments(),
        path: Vec::new(),
        comments: Vec::new(),
        unopened_comments: 0,
    };
    for doc in docs.iter_mut() {
        w.branch(doc)?;
    }
    let unopened_comments = w.unopened_comments;
    let computed = w.mac.finish();
    verify_mac(file, meta, key, &computed)?;
    Ok(WalkReport { unopened_comments })
}

/// Decrypts the stored MAC (AAD: canonical `lastmodified`) and compares.
fn verify_mac(file: &str, meta: &Metadata, key: &DataKey, computed: &str) -> Result<()> {
    if meta.mac.is_empty() {
        return Err(Error::MacMissing { file: file.into() });
    }
    let aad = meta.last_modified.rfc3339();
    let stored = match decrypt_value(&meta.mac, key, &aad) {
        Ok(Value::Str(s)) => s,
        Ok(_) | Err(CipherError::Type(_)) => {
            return Err(Error::malformed(
                file,
                "the stored MAC is not a string value",
            ));
        }
        Err(CipherError::Auth) => return Err(Error::MacUndecryptable { file: file.into() }),
        Err(CipherError::Format(why)) => {
            return Err(Error::malformed(file, format!("the stored MAC: {why}")));
        }
    };
    if stored.is_empty() {
        return Err(Error::MacMissing { file: file.into() });
    }
    let stored = stored.as_str().unwrap_or("");
    if !mac_eq(stored, computed) {
        return Err(Error::MacMismatch { file: file.into() });
    }
    Ok(())
}
