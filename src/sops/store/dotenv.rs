//! The dotenv store, exactly as literal as sops' own.
//!
//! Lines split on `\n` only (a `\r` stays in the value); empty lines are
//! skipped; a line whose first byte is `#` is a comment; otherwise the key is
//! everything before the first `=`, untrimmed, and the value is the rest with
//! the two characters `\n` turned into a newline. No quotes, no `export`, no
//! inline comments. Every key starting with `sops_` is metadata, flattened.
//! Printing writes `key=value` with newlines escaped back, non-strings through
//! sops' `ValToString`, and only the first document.

use crate::sops::gofmt::val_to_string;
use crate::sops::metadata::{Meta, unflatten};
use crate::sops::tree::{Branch, Item, SecretBytes, Value};

/// A dotenv file split into data and metadata (`None` when it has no `sops_` keys).
pub fn load(input: &[u8]) -> Result<(Branch, Option<Meta>), String> {
    let mut branch = Branch::new();
    let mut meta: Vec<(String, String)> = Vec::new();
    for (n, line) in input.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            branch.push_comment(SecretBytes::new(line[1..].to_vec()));
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err(format!(
                "line {} is not KEY=VALUE (dotenv lines need an '='; comments start with '#' in the first column)",
                n + 1
            ));
        };
        let key = std::str::from_utf8(&line[..eq])
            .map_err(|_| format!("line {}: the key is not UTF-8", n + 1))?;
        let value = replace_escaped_newlines(&line[eq + 1..]);
        if let Some(mkey) = key.strip_prefix("sops_") {
            let text = String::from_utf8(value)
                .map_err(|_| format!("line {}: sops metadata is not UTF-8", n + 1))?;
            meta.push((mkey.to_string(), text));
        } else {
            branch.push(key, Value::Str(SecretBytes::new(value)));
        }
    }
    if meta.is_empty() {
        return Ok((branch, None));
    }
    // sops decodes `\n` in every value, then once more in the metadata (DecodeNewLines).
    let m = unflatten(meta.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok((branch, Some(m)))
}

fn replace_escaped_newlines(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && v.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

/// Prints the first document as `sops decrypt --output-type dotenv` does.
pub fn emit(docs: &[Branch]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let Some(doc) = docs.first() else {
        return Ok(out);
    };
    for item in &doc.0 {
        match item {
            Item::Comment(c) => {
                out.push(b'#');
                out.extend_from_slice(c.as_bytes());
                out.push(b'\n');
            }
            Item::Entry(k, v) => {
                if matches!(v, Value::Map(_) | Value::List(_)) {
                    return Err(format!(
                        "cannot print the nested value of key {k:?} as dotenv (dotenv holds flat KEY=VALUE pairs)"
                    ));
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b'=');
                match v {
                    Value::Str(s) => {
                        for &b in s.as_bytes() {
                            if b == b'\n' {
                                out.extend_from_slice(b"\\n");
                            } else {
                                out.push(b);
                            }
                        }
                    }
                    other => out.extend_from_slice(val_to_string(other).as_bytes()),
                }
                out.push(b'\n');
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_parsing_like_sops() {
        let (b, meta) =
            load(b"#c\nfoo =bar\nD=\"q\"\nF=a=b\nN=x\\ny\n\nR=1\r\n=e\nexport C=1\n").unwrap();
        assert!(meta.is_none());
        let keys: Vec<&str> = b.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["foo ", "D", "F", "N", "R", "", "export C"]);
        assert_eq!(b.get("F"), Some(&Value::str("a=b")));
        assert_eq!(b.get("N"), Some(&Value::str("x\ny")));
        assert_eq!(b.get("R"), Some(&Value::str("1\r")));
        assert_eq!(b.get("D"), Some(&Value::str("\"q\"")));
    }

    #[test]
    fn indented_hash_and_missing_equals_are_errors() {
        assert!(load(b"  # x\n").is_err());
        let e = load(b"A=1\nsecretword\n").unwrap_err();
        assert!(e.contains("line 2") && !e.contains("secretword"), "{e}");
    }

    #[test]
    fn metadata_keys_are_split_off() {
        let (b, meta) = load(b"A=1\nsops_version=3.11.0\nsops_pgp__list_0__map_fp=X\n").unwrap();
        assert_eq!(b.entries().count(), 1);
        assert!(meta.is_some());
    }

    #[test]
    fn emit_round_trip() {
        let input = b"# c\nfoo = bar\nN=x\\ny\n";
        let (b, _) = load(input).unwrap();
        assert_eq!(emit(&[b]).unwrap(), input);
        let mut b = Branch::new();
        b.push("f", Value::Float(42.0));
        b.push("n", Value::Null);
        assert_eq!(emit(&[b]).unwrap(), b"f=42.0\nn=<nil>\n");
    }
}
