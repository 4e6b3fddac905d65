//! The `sops` metadata block: which keys wrap the data key, and how the tree
//! was encrypted.
//!
//! Every store hands over its metadata as a small untyped tree (`Meta`): YAML
//! and JSON nest it under the top-level `sops` key; dotenv and INI flatten it
//! into `pgp__list_0__map_enc`-style keys, which `unflatten` rebuilds. This
//! module turns that tree into `Metadata`, accepting what every 3.x writer
//! produced: top-level key lists or `key_groups`, `null`/`[]` lists, a
//! `shamir_threshold` written as `2` or `2.000000`, and scalars where strings
//! are expected (sops 3.13 decodes weakly typed too).

use super::rules::Rules;
use super::time::Timestamp;

/// Untyped metadata as a store read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Meta {
    Null,
    /// Any scalar, as text (`true`, `2`, `2.000000`, strings).
    Scalar(String),
    Map(Vec<(String, Meta)>),
    List(Vec<Meta>),
}

impl Meta {
    fn get(&self, key: &str) -> Option<&Meta> {
        match self {
            Meta::Map(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Meta::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// One wrapped copy of the data key (or of a Shamir share).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyEntry {
    Age {
        recipient: String,
        enc: String,
    },
    Pgp {
        fp: String,
        enc: String,
    },
    /// A cloud or Vault key: krm-sops reads the entry but cannot call the service.
    Remote {
        kind: &'static str,
        id: String,
    },
}

impl KeyEntry {
    pub fn kind(&self) -> &'static str {
        match self {
            KeyEntry::Age { .. } => "age",
            KeyEntry::Pgp { .. } => "pgp",
            KeyEntry::Remote { kind, .. } => kind,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            KeyEntry::Age { recipient, .. } => recipient,
            KeyEntry::Pgp { fp, .. } => fp,
            KeyEntry::Remote { id, .. } => id,
        }
    }

    /// sops' default decryption order: age, then pgp, then the rest in file order.
    pub fn order(&self) -> u8 {
        match self {
            KeyEntry::Age { .. } => 0,
            KeyEntry::Pgp { .. } => 1,
            KeyEntry::Remote { .. } => 2,
        }
    }
}

/// Parsed metadata.
#[derive(Debug)]
pub struct Metadata {
    pub groups: Vec<Vec<KeyEntry>>,
    pub threshold: usize,
    pub last_modified: Timestamp,
    pub mac: String,
    pub rules: Rules,
    pub mac_only_encrypted: bool,
    pub version: String,
}

/// The remote key types, in sops' internal group order, with the field that identifies each.
const REMOTE_KINDS: [(&str, &str, &str); 5] = [
    ("kms", "AWS KMS", "arn"),
    ("gcp_kms", "GCP KMS", "resource_id"),
    ("hckms", "HuaweiCloud KMS", "key_id"),
    ("azure_kv", "Azure Key Vault", "vault_url"),
    ("hc_vault", "HashiCorp Vault", "vault_address"),
];

/// The human name of a remote key kind.
pub fn remote_kind_name(kind: &str) -> &'static str {
    REMOTE_KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or("an unknown key service", |(_, n, _)| n)
}

fn field_text<'a>(m: &'a Meta, key: &str) -> Result<&'a str, String> {
    match m.get(key) {
        None | Some(Meta::Null) => Ok(""),
        Some(Meta::Scalar(s)) => Ok(s),
        Some(_) => Err(format!("sops metadata field `{key}` must be a string")),
    }
}

fn list<'a>(m: &'a Meta, key: &str) -> Result<&'a [Meta], String> {
    match m.get(key) {
        None | Some(Meta::Null) => Ok(&[]),
        Some(Meta::List(l)) => Ok(l),
        Some(Meta::Scalar(s)) if s.is_empty() => Ok(&[]),
        Some(_) => Err(format!("sops metadata field `{key}` must be a list")),
    }
}

fn check_created_at(entry: &Meta, kind: &str) -> Result<(), String> {
    let c = field_text(entry, "created_at")?;
    if Timestamp::parse_rfc3339(c).is_none() {
        return Err(format!(
            "a {kind} key entry has an invalid created_at {c:?} (RFC 3339 expected)"
        ));
    }
    Ok(())
}

/// The key entries of one group (or of the top-level lists), in sops' internal order.
fn group_from(m: &Meta) -> Result<Vec<KeyEntry>, String> {
    let mut out = Vec::new();
    for (field, kind, id_field) in REMOTE_KINDS {
        for e in list(m, field)? {
            if field != "hckms" {
                check_created_at(e, kind)?;
            }
            out.push(KeyEntry::Remote {
                kind: field,
                id: field_text(e, id_field)?.to_string(),
            });
        }
    }
    for e in list(m, "pgp")? {
        check_created_at(e, "pgp")?;
        out.push(KeyEntry::Pgp {
            fp: field_text(e, "fp")?.to_string(),
            enc: field_text(e, "enc")?.to_string(),
        });
    }
    for e in list(m, "age")? {
        out.push(KeyEntry::Age {
            recipient: field_text(e, "recipient")?.to_string(),
            enc: field_text(e, "enc")?.to_string(),
        });
    }
    Ok(out)
}

fn parse_threshold(m: &Meta) -> Result<usize, String> {
    let Some(t) = m.get("shamir_threshold") else {
        return Ok(0);
    };
    let Some(s) = t.text() else {
        return Ok(0);
    };
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    if let Ok(v) = s.parse::<usize>() {
        return Ok(v);
    }
    match s.parse::<f64>() {
        Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < 256.0 => Ok(f as usize),
        _ => Err(format!("shamir_threshold {s:?} is not an integer")),
    }
}

impl Metadata {
    /// Interprets the metadata tree; errors are plain messages the caller puts in context.
    pub fn parse(m: &Meta) -> Result<Metadata, String> {
        if !matches!(m, Meta::Map(_)) {
            return Err("the `sops` metadata entry is not a mapping".into());
        }
        let lm_text = field_text(m, "lastmodified")?;
        let last_modified = Timestamp::parse_rfc3339(lm_text).ok_or_else(|| {
            if lm_text.is_empty() {
                "sops metadata has no lastmodified".to_string()
            } else {
                format!("sops metadata has an invalid lastmodified {lm_text:?} (RFC 3339 expected)")
            }
        })?;

        let top = group_from(m)?;
        let groups = if !top.is_empty() {
            vec![top]
        } else {
            let mut gs = Vec::new();
            for g in list(m, "key_groups")? {
                gs.push(group_from(g)?);
            }
            gs
        };
        if groups.is_empty() {
            return Err("no keys found in the sops metadata".into());
        }

        let rules = Rules::from_metadata(
            field_text(m, "unencrypted_suffix")?,
            field_text(m, "encrypted_suffix")?,
            field_text(m, "unencrypted_regex")?,
            field_text(m, "encrypted_regex")?,
            field_text(m, "unencrypted_comment_regex")?,
            field_text(m, "encrypted_comment_regex")?,
        )?;
        let mac_only_encrypted = matches!(m.get("mac_only_encrypted").and_then(Meta::text), Some(s) if s.eq_ignore_ascii_case("true"));

        Ok(Metadata {
            groups,
            threshold: parse_threshold(m)?,
            last_modified,
            mac: field_text(m, "mac")?.to_string(),
            rules,
            mac_only_encrypted,
            version: field_text(m, "version")?.to_string(),
        })
    }
}

/// Largest list index accepted in flattened metadata (guards against `__list_999999999`).
const MAX_FLAT_INDEX: usize = 4096;

enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

fn tokenize(path: &str) -> Vec<Token<'_>> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut rest = path;
    let mut is_list = false;
    loop {
        let next_map = rest.find(MAP);
        let next_list = rest.find(LIST);
        let (cut, sep_len, next_is_list) = match (next_map, next_list) {
            (Some(a), Some(b)) if b < a => (b, LIST.len(), true),
            (Some(a), _) => (a, MAP.len(), false),
            (None, Some(b)) => (b, LIST.len(), true),
            (None, None) => (rest.len(), 0, false),
        };
        let piece = &rest[..cut];
        tokens.push(if is_list {
            Token::Index(piece.parse().unwrap_or(0))
        } else {
            Token::Key(piece)
        });
        if sep_len == 0 {
            break;
        }
        rest = &rest[cut + sep_len..];
        is_list = next_is_list;
    }
    tokens
}

fn insert(node: &mut Meta, tokens: &[Token<'_>], value: &str) -> Result<(), String> {
    let Some((first, rest)) = tokens.split_first() else {
        *node = Meta::Scalar(value.to_string());
        return Ok(());
    };
    let child = match first {
        Token::Key(k) => {
            if !matches!(node, Meta::Map(_)) {
                *node = Meta::Map(Vec::new());
            }
            let Meta::Map(m) = node else { unreachable!() };
            let pos = match m.iter().position(|(mk, _)| mk == k) {
                Some(p) => p,
                None => {
                    m.push((k.to_string(), Meta::Null));
                    m.len() - 1
                }
            };
            &mut m[pos].1
        }
        Token::Index(i) => {
            if *i > MAX_FLAT_INDEX {
                return Err(format!("flattened metadata list index {i} is too large"));
            }
            if !matches!(node, Meta::List(_)) {
                *node = Meta::List(Vec::new());
            }
            let Meta::List(l) = node else { unreachable!() };
            if l.len() <= *i {
                l.resize(*i + 1, Meta::Null);
            }
            &mut l[*i]
        }
    };
    insert(child, rest, value)
}

/// Rebuilds nested metadata from flattened `key → value` pairs (dotenv, INI),
/// decoding the `\n` escapes those stores write.
pub fn unflatten<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Meta, String> {
    let mut root = Meta::Map(Vec::new());
    for (k, v) in pairs {
        let value = v.replace("\\n", "\n");
        insert(&mut root, &tokenize(k), &value)?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Meta {
        Meta::Scalar(x.into())
    }

    #[test]
    fn unflatten_rebuilds_lists_and_maps() {
        let m = unflatten([
            ("pgp__list_0__map_fp", "ABC"),
            ("pgp__list_0__map_created_at", "2020-01-01T00:00:00Z"),
            ("pgp__list_0__map_enc", "line1\\nline2"),
            (
                "key_groups__list_1__map_age__list_0__map_recipient",
                "age1x",
            ),
            ("lastmodified", "2020-01-01T00:00:00Z"),
        ])
        .unwrap();
        let pgp = m.get("pgp").unwrap();
        let Meta::List(l) = pgp else { panic!() };
        assert_eq!(l[0].get("fp"), Some(&s("ABC")));
        assert_eq!(l[0].get("enc"), Some(&s("line1\nline2")));
        let Meta::List(g) = m.get("key_groups").unwrap() else {
            panic!()
        };
        assert_eq!(g.len(), 2);
        assert_eq!(g[0], Meta::Null);
    }

    #[test]
    fn huge_flattened_index_is_refused() {
        assert!(unflatten([("pgp__list_99999999__map_fp", "x")]).is_err());
    }

    #[test]
    fn threshold_forms() {
        for (t, want) in [("2", 2), ("2.000000", 2), ("", 0)] {
            let m = Meta::Map(vec![("shamir_threshold".into(), s(t))]);
            assert_eq!(parse_threshold(&m).unwrap(), want);
        }
        let m = Meta::Map(vec![("shamir_threshold".into(), s("2.5"))]);
        assert!(parse_threshold(&m).is_err());
    }

    #[test]
    fn top_level_lists_win_over_key_groups() {
        let age = Meta::Map(vec![
            ("recipient".into(), s("age1top")),
            ("enc".into(), s("x")),
        ]);
        let m = Meta::Map(vec![
            ("kms".into(), Meta::List(vec![])),
            ("gcp_kms".into(), Meta::Null),
            ("age".into(), Meta::List(vec![age])),
            ("lastmodified".into(), s("2020-01-01T00:00:00Z")),
            ("mac".into(), s("")),
        ]);
        let md = Metadata::parse(&m).unwrap();
        assert_eq!(md.groups.len(), 1);
        assert_eq!(md.groups[0][0].id(), "age1top");
    }

    #[test]
    fn missing_keys_and_bad_dates_are_errors() {
        let m = Meta::Map(vec![("lastmodified".into(), s("2020-01-01T00:00:00Z"))]);
        assert!(Metadata::parse(&m).unwrap_err().contains("no keys"));
        let m = Meta::Map(vec![("lastmodified".into(), s("yesterday"))]);
        assert!(Metadata::parse(&m).unwrap_err().contains("lastmodified"));
    }
}
