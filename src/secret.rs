//! Building `v1/Secret` objects exactly as kustomize's `secretGenerator` does.
//!
//! Key/value pairs come from env files (kustomize's minimal env-file rules:
//! split at the first `=`, only leading white space trimmed, no quotes, no
//! `export`), literals (`KEY=VALUE`, one pair of surrounding quotes removed)
//! and files (`[key=]path`, key defaults to the base name). Values are
//! base64-encoded and wrapped as kyaml wraps them (70 columns, every line
//! ending in `\n`, once the encoding reaches 70 characters) because the name
//! hash kustomize computes covers those exact strings. kustomize itself adds
//! the hash suffix, driven by the `needs-hash` annotation emitted here.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::config::{Behavior, SecretEntry};
use crate::sops::tree::SecretBytes;
use crate::yaml::emit::{string_node, wrap_base64};
use crate::yaml::{Entry, Node};

pub const NEEDS_HASH: &str = "kustomize.config.k8s.io/needs-hash";
pub const BEHAVIOR: &str = "kustomize.config.k8s.io/behavior";

/// The statement lines of an env file, split the way kustomize and
/// SopsSecretGenerator split them (Go's line scanner): at `\n`, with a final
/// `\r` and a UTF-8 BOM on the first line dropped, leading white space
/// trimmed, blank and `#` lines skipped. Yields (1-based line number, raw
/// length, line); a line that is not UTF-8 is an error naming it.
pub fn env_lines(bytes: &[u8]) -> impl Iterator<Item = Result<(usize, usize, &str), String>> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    lines.into_iter().enumerate().filter_map(|(n, raw)| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if n == 0 {
            raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw)
        } else {
            raw
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Some(Err(format!("line {} is not valid UTF-8", n + 1)));
        };
        let line = text.trim_start_matches(char::is_whitespace);
        (!line.is_empty() && !line.starts_with('#')).then_some(Ok((n + 1, raw.len(), line)))
    })
}

/// kustomize's env-file reading (`api/kv/kv.go`), on decrypted bytes.
///
/// One deliberate difference: a line of 64 KiB or more is an error here,
/// where kustomize silently drops it and every line after it.
pub fn parse_env_file(bytes: &[u8]) -> Result<Vec<(String, SecretBytes)>, String> {
    const MAX_LINE: usize = 64 * 1024;
    let mut out = Vec::new();
    for line in env_lines(bytes) {
        let (n, len, line) = line?;
        if len >= MAX_LINE {
            return Err(format!(
                "line {n} is longer than 64 KiB (kustomize would silently drop it and every line after it)"
            ));
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty() {
            // kustomize skips `=value` lines without a word.
            continue;
        }
        out.push((k.to_string(), SecretBytes::from_text(v)));
    }
    Ok(out)
}

/// A `KEY=VALUE` literal, with one pair of surrounding quotes removed from the value.
pub fn parse_literal(s: &str) -> Result<(String, SecretBytes), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err("is not KEY=VALUE".to_string());
    };
    if k.is_empty() {
        return Err("has no key before '='".to_string());
    }
    let b = v.as_bytes();
    let v = if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Ok((k.to_string(), SecretBytes::from_text(v)))
}

/// A `files` source: `[key=]path`, the key defaulting to the path's last segment.
pub fn parse_file_source(s: &str) -> Result<(String, String), String> {
    match s.matches('=').count() {
        0 => {
            let key = s.rsplit('/').next().unwrap_or(s);
            if key.is_empty() {
                return Err("has no file name to use as the key".into());
            }
            Ok((key.to_string(), s.to_string()))
        }
        1 => {
            let (k, p) = s.split_once('=').unwrap_or(("", s));
            if k.is_empty() {
                return Err(format!(
                    "is missing the key name before '=' (for the file {p:?})"
                ));
            }
            if p.is_empty() {
                return Err(format!("is missing the file path after '{k}='"));
            }
            Ok((k.to_string(), p.to_string()))
        }
        _ => Err("contains more than one '=' (key=path takes exactly one)".into()),
    }
}

/// The base64 form kustomize stores in `data` (70-column lines when long).
pub fn encode_value(v: &[u8]) -> String {
    wrap_base64(&base64::engine::general_purpose::STANDARD.encode(v))
}

fn str_node(s: &str) -> Node {
    string_node(s.as_bytes())
}

fn string_map_node(m: &BTreeMap<String, String>) -> Node {
    Node::map(
        m.iter()
            .map(|(k, v)| Entry {
                comments: Vec::new(),
                key: str_node(k),
                value: str_node(v),
            })
            .collect(),
    )
}

/// The Secret for one entry; `data` maps keys to plaintext values.
pub fn secret_node(entry: &SecretEntry, data: &BTreeMap<String, SecretBytes>) -> Node {
    let mut annotations = entry.options.annotations.clone();
    if !entry.options.disable_name_suffix_hash {
        annotations.insert(NEEDS_HASH.into(), "true".into());
    }
    match entry.behavior {
        Behavior::Create => {}
        Behavior::Merge => {
            annotations.insert(BEHAVIOR.into(), "merge".into());
        }
        Behavior::Replace => {
            annotations.insert(BEHAVIOR.into(), "replace".into());
        }
    }
    let mut meta = vec![Node::entry("name", str_node(&entry.name))];
    if let Some(ns) = &entry.namespace {
        meta.push(Node::entry("namespace", str_node(ns)));
    }
    if !entry.options.labels.is_empty() {
        meta.push(Node::entry(
            "labels",
            string_map_node(&entry.options.labels),
        ));
    }
    if !annotations.is_empty() {
        meta.push(Node::entry("annotations", string_map_node(&annotations)));
    }
    let data_node = Node::map(
        data.iter()
            .map(|(k, v)| Entry {
                comments: Vec::new(),
                key: str_node(k),
                value: str_node(&encode_value(v.as_bytes())),
            })
            .collect(),
    );
    let mut fields = vec![
        Node::entry("apiVersion", str_node("v1")),
        Node::entry("kind", str_node("Secret")),
        Node::entry("metadata", Node::map(meta)),
        Node::entry("type", str_node(&entry.secret_type)),
        Node::entry("data", data_node),
    ];
    if entry.options.immutable {
        fields.push(Node::entry(
            "immutable",
            Node::scalar("true", crate::yaml::Style::Plain),
        ));
    }
    Node::map(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &[u8]) -> Vec<(String, String)> {
        parse_env_file(input)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn env_files_like_kustomize() {
        let got = pairs(
            "\u{feff}FIRST=bom\n# c\n   # indented\n\n   \nPLAIN=value\n  LEADING=  spaced  \nTRAIL =x\nDQ=\"q\"\nexport E=1\nBARE\nEMPTY=\nEQ=a=b\nCRLF=c\r\n=skipped\nHASH=v # not a comment\n"
                .as_bytes(),
        );
        let want: Vec<(String, String)> = [
            ("FIRST", "bom"),
            ("PLAIN", "value"),
            ("LEADING", "  spaced  "),
            ("TRAIL ", "x"),
            ("DQ", "\"q\""),
            ("export E", "1"),
            ("BARE", ""),
            ("EMPTY", ""),
            ("EQ", "a=b"),
            ("CRLF", "c"),
            ("HASH", "v # not a comment"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert!(parse_env_file(b"A=\xff\n").is_err());
        assert!(parse_env_file(&[b'x'; 70_000]).is_err());
        assert_eq!(
            pairs(b"A=1\rB=2\n"),
            [("A".to_string(), "1\rB=2".to_string())]
        );
    }

    #[test]
    fn literals_like_kustomize() {
        let lit = |s: &str| {
            let (k, v) = parse_literal(s).unwrap();
            (k, v.as_str().unwrap().to_string())
        };
        assert_eq!(lit("a=\"x\""), ("a".into(), "x".into()));
        assert_eq!(lit("a='x'"), ("a".into(), "x".into()));
        assert_eq!(lit("a=\"x'"), ("a".into(), "\"x'".into()));
        assert_eq!(lit("a=\""), ("a".into(), "\"".into()));
        assert_eq!(lit("a=b=c"), ("a".into(), "b=c".into()));
        assert_eq!(lit("nested=\"'x'\""), ("nested".into(), "'x'".into()));
        assert!(parse_literal("novalue").is_err());
        assert!(parse_literal("=v").is_err());
    }

    #[test]
    fn file_sources_like_kustomize() {
        assert_eq!(
            parse_file_source("sub/a.txt").unwrap(),
            ("a.txt".into(), "sub/a.txt".into())
        );
        assert_eq!(
            parse_file_source("k=sub/a.txt").unwrap(),
            ("k".into(), "sub/a.txt".into())
        );
        assert!(parse_file_source("=a").is_err());
        assert!(parse_file_source("k=").is_err());
        assert!(parse_file_source("a=b=c").is_err());
    }

    #[test]
    fn base64_wraps_at_70_like_kyaml() {
        assert_eq!(encode_value(&[b'x'; 51]).len(), 68);
        let v = encode_value(&[b'x'; 52]);
        assert_eq!(v.len(), 74);
        assert!(v.ends_with("==\n") && v.as_bytes()[70] == b'\n');
        let v = encode_value(&[b'x'; 105]);
        assert_eq!(v.matches('\n').count(), 2);
        assert!(v.ends_with('\n'));
        assert_eq!(encode_value(b""), "");
    }
}
