//! How SopsSecretGenerator reads `envs` files: its own dotenv reader, flat
//! YAML maps and flat JSON objects (v1.6.0's rules).
//!
//! Its dotenv reader is literal: lines split at the first `=`, the key kept
//! as written (not trimmed on the right, `export ` included), the value
//! verbatim — quotes, `#` and `$` included; blank and `#` lines skipped; a
//! line without `=` is an error. YAML values are the scalar text sops prints
//! (`1.50` is printed `1.5`), null is the empty string, and nested values are
//! refused. JSON takes strings (null is empty); where SopsSecretGenerator
//! refuses numbers and booleans we take their JSON text (documented).

use crate::sops::gofmt::float_g;
use crate::sops::tree::{Branch, SecretBytes, Value as TreeValue};
use crate::yaml::resolve::{Resolved, resolve};
use crate::yaml::{Style, Value, parse_stream};

pub type Pairs = Vec<(String, SecretBytes)>;

/// SopsSecretGenerator's dotenv reader, on decrypted text.
pub fn dotenv(bytes: &[u8]) -> Result<Pairs, String> {
    let mut out = Vec::new();
    for line in crate::secret::env_lines(bytes) {
        let (n, _, line) = line?;
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {n} has no '=' (expected KEY=VALUE)"));
        };
        if k.is_empty() {
            return Err(format!("line {n} has an empty key before '='"));
        }
        out.push((k.to_string(), SecretBytes::from_text(v)));
    }
    Ok(out)
}

/// A flat YAML map, read from the text sops prints (scalar text as printed).
pub fn yaml(bytes: &[u8]) -> Result<Pairs, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_string())?;
    let docs = parse_stream(text).map_err(|e| e.to_string())?;
    let Some(root) = docs.into_iter().find_map(|d| d.root) else {
        return Ok(Vec::new());
    };
    let Value::Map { entries, .. } = root.value else {
        return Err("the file is not a mapping of keys to values".into());
    };
    let mut out = Vec::new();
    for e in entries {
        let Value::Scalar { text: key, .. } = &e.key.value else {
            return Err(format!("line {}: a key is not a plain string", e.key.line));
        };
        let value = match &e.value.value {
            Value::Scalar { text, style } => {
                let null = *style == Style::Plain
                    && matches!(
                        resolve(text, *style, e.value.tag.as_deref()),
                        Ok(Resolved::Null)
                    );
                if null { String::new() } else { text.clone() }
            }
            Value::Map { .. } | Value::Seq { .. } => {
                return Err(format!(
                    "the value of {key:?} is a {}; envs files must be a flat map of scalars (list the file under files: instead)",
                    if matches!(e.value.value, Value::Map { .. }) {
                        "mapping"
                    } else {
                        "list"
                    }
                ));
            }
            Value::Alias(_) => return Err(format!("the value of {key:?} is an alias")),
        };
        out.push((key.clone(), SecretBytes::from_text(&value)));
    }
    Ok(out)
}

/// A flat JSON object, from the decrypted tree.
pub fn json(doc: Option<&Branch>) -> Result<Pairs, String> {
    let mut out = Vec::new();
    for (k, v) in doc
        .map(|d| d.entries().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let s = match v {
            TreeValue::Str(s) => s.clone(),
            TreeValue::Null => SecretBytes::from_text(""),
            TreeValue::Bool(b) => SecretBytes::from_text(&b.to_string()),
            TreeValue::Int(i) => SecretBytes::from_text(&i.to_string()),
            TreeValue::Uint(u) => SecretBytes::from_text(&u.to_string()),
            TreeValue::Float(f) if f.is_finite() => SecretBytes::from_text(&float_g(*f, false)),
            other => {
                return Err(format!(
                    "the value of {k:?} is {}; envs files must be a flat object of strings (list the file under files: instead)",
                    other.type_name()
                ));
            }
        };
        out.push((k.to_string(), s));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: Pairs) -> Vec<(String, String)> {
        p.into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn dotenv_keeps_everything_literally() {
        let got = text(
            dotenv(b"# c\nPLAIN=value\nSPACED = spaced value  \nexport EXPORTED=yes\nDQ=\"dq\"\nINLINE=value # c\nREF=${PLAIN}\n\n  INDENTED=ok\nEQ=a=b=c\nCR=x\r\n")
                .unwrap(),
        );
        let want = [
            ("PLAIN", "value"),
            ("SPACED ", " spaced value  "),
            ("export EXPORTED", "yes"),
            ("DQ", "\"dq\""),
            ("INLINE", "value # c"),
            ("REF", "${PLAIN}"),
            ("INDENTED", "ok"),
            ("EQ", "a=b=c"),
            ("CR", "x"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        assert!(dotenv(b"A=1\nnovalue\n").unwrap_err().contains("line 2"));
        assert!(dotenv(b"=v\n").is_err());
        assert!(dotenv(b"A=\xff\n").is_err());
    }

    #[test]
    fn yaml_scalars_as_printed() {
        let got = text(
            yaml(b"port: 8080\nenabled: true\nratio: 1.5\nnothing: null\ntilde: ~\nquoted: \"yes\"\nblock: |\n    two\n    lines\n")
                .unwrap(),
        );
        assert_eq!(
            got,
            [
                ("port", "8080"),
                ("enabled", "true"),
                ("ratio", "1.5"),
                ("nothing", ""),
                ("tilde", ""),
                ("quoted", "yes"),
                ("block", "two\nlines\n"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
        );
        assert!(yaml(b"a:\n    b: 1\n").unwrap_err().contains("mapping"));
        assert!(yaml(b"").unwrap().is_empty());
    }
}
