//! Drop-in configurations of other tools: KSOPS and SopsSecretGenerator.
//!
//! Users of KSOPS (`viaduct.ai/v1` `ksops`) and SopsSecretGenerator
//! (`goabout.com/v1beta1` `SopsSecretGenerator`/`SopsSecret`) switch by
//! swapping the binary: the same config gives the same objects. Each tool has
//! its module (schema, reading, generation); this one holds what they share —
//! the `[key=]path` and base-name rules, the YAML map-key order of the Go
//! encoders they print with, Secret-key checks that warn where the API server
//! would refuse, and the Secret node builder. Where an original crashes,
//! corrupts data or silently drops input we report an error or a warning
//! instead; README.md ("KSOPS and SopsSecretGenerator users") lists each case.

pub mod godotenv;
pub mod ksops;
pub mod ssg;
pub mod ssg_env;

use std::cmp::Ordering;

use crate::config::Origin;
use crate::error::Result;
use crate::sops::gofmt::float_g32;
use crate::yaml::emit::{is_old_bool, string_node};
use crate::yaml::resolve::{Resolved, resolve};
use crate::yaml::{Entry, Node, Style, Value};

/// Go's `filepath.Base`: the last element, trailing slashes ignored.
pub fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Why `key` cannot be a key of a Secret's `data` (the API server's rule:
/// `[-._a-zA-Z0-9]+`, at most 253 characters, not `.` or `..`).
pub fn invalid_secret_key(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("it is empty")
    } else if key.len() > 253 {
        Some("it is longer than 253 characters")
    } else if key == "." || key == ".." {
        Some("it may not be '.' or '..'")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("it may only hold letters, digits, '-', '_' and '.'")
    } else {
        None
    }
}

/// A warning for a generated key the API server will refuse.
pub fn key_warning(secret: &str, key: &str) -> Option<String> {
    invalid_secret_key(key).map(|why| {
        format!(
            "Secret {secret:?}: the key {key:?} is not a valid Secret key ({why}); the original tool emits it the same way, but `kubectl apply` will refuse it"
        )
    })
}

/// go-yaml's ordering of string map keys ("natural" order: digit runs
/// compare as numbers, letters after other characters).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            let a_first = if digits { al } else { bl };
            return if a_first {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (u64, u64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(u64::from(ar[ai]) - u64::from('0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(u64::from(br[bi]) - u64::from('0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// A mapping node of string pairs, keys in go-yaml's natural order.
pub fn sorted_map<'a>(pairs: impl IntoIterator<Item = (&'a str, Node)>) -> Node {
    let mut v: Vec<(&str, Node)> = pairs.into_iter().collect();
    v.sort_by(|a, b| natural_cmp(a.0, b.0));
    Node::map(
        v.into_iter()
            .map(|(k, value)| Entry {
                comments: Vec::new(),
                key: string_node(k.as_bytes()),
                value,
            })
            .collect(),
    )
}

/// A string scalar node.
pub fn text(s: &str) -> Node {
    string_node(s.as_bytes())
}

/// The fields of a config mapping, read the lenient way the originals read
/// them: unknown fields are ignored with a warning (both tools ignore them
/// silently); KSOPS (Go's encoding/json) also matches names case-insensitively.
pub struct Loose<'a> {
    fields: Vec<(&'static str, &'a Node)>,
    /// Field names outside the schema (each also reported as a warning).
    pub unknown: Vec<&'a str>,
}

impl<'a> Loose<'a> {
    pub fn of(
        n: &'a Node,
        known: &[&'static str],
        fold_case: bool,
        origin: &Origin,
        ctx: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Loose<'a>> {
        let Value::Map { entries, .. } = &n.value else {
            if n.is_null() {
                return Ok(Loose {
                    fields: Vec::new(),
                    unknown: Vec::new(),
                });
            }
            return Err(origin.err(ctx, "expected a mapping"));
        };
        let mut fields = Vec::new();
        let mut unknown = Vec::new();
        for e in entries {
            let Some(k) = e.key.as_scalar() else {
                return Err(origin.err(ctx, "mapping keys must be strings"));
            };
            let found = known.iter().find(|f| **f == k).or_else(|| {
                known
                    .iter()
                    .find(|f| fold_case && f.eq_ignore_ascii_case(k))
            });
            match found {
                Some(f) => fields.push((*f, &e.value)),
                None => {
                    warnings.push(format!(
                        "{ctx}: the field {k:?} is not part of the schema and is ignored (as the original tool ignores it)"
                    ));
                    unknown.push(k);
                }
            }
        }
        Ok(Loose { fields, unknown })
    }

    /// The value of a field (the last one, when a name repeats); null is absent.
    pub fn get(&self, name: &str) -> Option<&'a Node> {
        self.fields
            .iter()
            .rev()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }
}

/// How a scalar becomes a string field.
#[derive(Clone, Copy)]
pub enum Scalars {
    /// go-yaml v3 into a `string` (SopsSecretGenerator): the text as written; null is "".
    AsWritten,
    /// sigs.k8s.io/yaml into a `string` (KSOPS): YAML 1.1 typing, then ints in
    /// decimal, floats as `%g` of a float32, booleans `true`/`false`; null is "".
    Yaml11,
}

/// A string field under `rule`.
pub fn string_field(n: &Node, rule: Scalars, origin: &Origin, ctx: &str) -> Result<String> {
    let Value::Scalar { text, style } = &n.value else {
        return Err(origin.err(ctx, "expected a string, found a mapping or list"));
    };
    let resolved = resolve(text, *style, n.tag.as_deref());
    if matches!(resolved, Ok(Resolved::Null)) {
        return Ok(String::new());
    }
    Ok(match rule {
        Scalars::AsWritten => text.clone(),
        Scalars::Yaml11 if *style != Style::Plain || n.tag.is_some() => text.clone(),
        Scalars::Yaml11 if is_old_bool(text) => {
            let yes = matches!(
                text.as_str(),
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
            );
            yes.to_string()
        }
        Scalars::Yaml11 => match resolved {
            Ok(Resolved::Bool(b)) => b.to_string(),
            Ok(Resolved::Int(i)) => i.to_string(),
            Ok(Resolved::Uint(u)) => u.to_string(),
            Ok(Resolved::Float(f)) => float_g32(f as f32),
            _ => text.clone(),
        },
    })
}

/// A list of strings (null or absent is empty).
pub fn string_list(
    n: Option<&Node>,
    rule: Scalars,
    origin: &Origin,
    ctx: &str,
) -> Result<Vec<String>> {
    let Some(n) = n else {
        return Ok(Vec::new());
    };
    let Value::Seq { items, .. } = &n.value else {
        return Err(origin.err(ctx, "expected a list of strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, it)| string_field(&it.node, rule, origin, &format!("{ctx}[{i}]")))
        .collect()
}

/// A map of strings (null or absent is empty); a repeated key keeps the last value.
pub fn string_map(
    n: Option<&Node>,
    rule: Scalars,
    origin: &Origin,
    ctx: &str,
) -> Result<Vec<(String, String)>> {
    let Some(n) = n else {
        return Ok(Vec::new());
    };
    let Value::Map { entries, .. } = &n.value else {
        return Err(origin.err(ctx, "expected a mapping of strings"));
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for e in entries {
        let k = string_field(&e.key, rule, origin, ctx)?;
        let v = string_field(&e.value, rule, origin, &format!("{ctx}.{k}"))?;
        out.retain(|(old, _)| *old != k);
        out.push((k, v));
    }
    Ok(out)
}

/// Splits a `[key=]path` file source the way both tools do (on every `=`).
pub fn file_source(entry: &str) -> std::result::Result<(&str, &str), String> {
    let parts: Vec<&str> = entry.split('=').collect();
    match parts.as_slice() {
        [path] => Ok((base_name(path), path)),
        [key, path] => {
            if key.is_empty() {
                Err(format!("{entry:?} has an empty key before '='"))
            } else if path.is_empty() {
                Err(format!("{entry:?} has no file path after '='"))
            } else {
                Ok((key, path))
            }
        }
        _ => Err(format!(
            "{entry:?} contains more than one '=' (key=path takes exactly one; neither keys nor paths may contain '=')"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_base_names() {
        assert_eq!(base_name("./secret.enc.conf"), "secret.enc.conf");
        assert_eq!(base_name("dir/x.txt"), "x.txt");
        assert_eq!(base_name("x"), "x");
        assert_eq!(base_name("dir/"), "dir");
        assert_eq!(base_name("/"), "/");
        assert_eq!(base_name(""), ".");
    }

    #[test]
    fn natural_order_like_go_yaml() {
        let mut keys = vec![
            "b", "KEY10", "a", "KEY9", "B", "_x", "10", "2", "a.b", "a1", "a01", "z",
        ];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            keys,
            [
                "_x", "2", "10", "B", "KEY9", "KEY10", "a", "a.b", "a1", "a01", "b", "z"
            ]
        );
        assert_eq!(
            natural_cmp("secret-file1.txt", "secret-file2.txt"),
            Ordering::Less
        );
        assert_eq!(natural_cmp("ENV_VAR", "JSON_VAR"), Ordering::Less);
    }

    #[test]
    fn yaml11_coercion_like_sigs_k8s_yaml() {
        let origin = Origin {
            file: "c.yaml".into(),
        };
        let doc = crate::yaml::parse_stream(
            "a: 1\nb: yes\nc: 1.10\nd: 0x1F\ne: '1.10'\nf: ~\ng: 1e3\nh: 3.14159265\ni: text\nj: 1_000\nk: 1000000.0\n",
        )
        .unwrap();
        let root = doc[0].root.as_ref().unwrap();
        let got = |k: &str, rule| string_field(root.get(k).unwrap(), rule, &origin, k).unwrap();
        let v2: Vec<String> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
            .iter()
            .map(|k| got(k, Scalars::Yaml11))
            .collect();
        assert_eq!(
            v2,
            [
                "1",
                "true",
                "1.1",
                "31",
                "1.10",
                "",
                "1000",
                "3.1415927",
                "text",
                "1000",
                "1e+06"
            ]
        );
        assert_eq!(got("c", Scalars::AsWritten), "1.10");
        assert_eq!(got("b", Scalars::AsWritten), "yes");
        assert_eq!(got("f", Scalars::AsWritten), "");
    }

    #[test]
    fn file_sources() {
        assert_eq!(file_source("./a/b.txt").unwrap(), ("b.txt", "./a/b.txt"));
        assert_eq!(file_source("k=p").unwrap(), ("k", "p"));
        assert!(file_source("=p").unwrap_err().contains("empty key"));
        assert!(file_source("k=").unwrap_err().contains("no file path"));
        assert!(file_source("a=b=c").unwrap_err().contains("more than one"));
    }

    #[test]
    fn secret_keys() {
        for ok in ["a", "tls.crt", "A_B-c.9", ".dockerconfigjson"] {
            assert_eq!(invalid_secret_key(ok), None, "{ok}");
        }
        for bad in ["", ".", "..", "export X", "SPACED ", "a/b", "ü"] {
            assert!(invalid_secret_key(bad).is_some(), "{bad}");
        }
    }
}
