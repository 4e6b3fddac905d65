//! Typing scalars as go-yaml v3 does (`resolve.go`), which is how sops sees
//! unencrypted YAML values and therefore what they contribute to the MAC.
//!
//! Plain scalars: null (`~`, `null`, empty), bool (`true`/`True`/`TRUE` and
//! false forms only — YAML 1.2, so `yes` is a string), ints via Go's
//! `ParseInt(s, 0, 64)` after removing `_` (so `0x1F`, `0o17`, `0b11` and the
//! legacy octal `0777`), then uint64, then YAML-style floats, `.inf`/`.nan`,
//! and timestamps (`2001-12-14`, RFC 3339 with short fields, space-separated).
//! Quoted and block scalars are strings; explicit `!!` tags are honoured.

use crate::sops::time::Timestamp;

use super::Style;

/// A typed scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Time(Timestamp),
    Binary(Vec<u8>),
}

/// `!!x` for the YAML core tags, however they were written.
fn short_tag(tag: &str) -> String {
    if let Some(rest) = tag
        .strip_prefix("!<tag:yaml.org,2002:")
        .and_then(|r| r.strip_suffix('>'))
    {
        return format!("!!{rest}");
    }
    if let Some(rest) = tag.strip_prefix("tag:yaml.org,2002:") {
        return format!("!!{rest}");
    }
    tag.to_string()
}

fn digits_in_base(s: &str, base: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(base))
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)` (prefixes
/// `0x`, `0o`, `0b`, legacy leading `0` octal; `_` already removed).
fn parse_int_base0(s: &str) -> Option<(bool, u64)> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, base) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if !digits_in_base(digits, base) {
        return None;
    }
    u64::from_str_radix(digits, base).ok().map(|v| (neg, v))
}

fn as_int(s: &str) -> Option<Resolved> {
    let (neg, v) = parse_int_base0(s)?;
    // Above int64, go-yaml tries ParseUint, which takes no sign.
    if !neg && v > i64::MAX as u64 && s.starts_with('+') {
        return None;
    }
    if neg {
        if v <= i64::MAX as u64 {
            Some(Resolved::Int(-(v as i64)))
        } else if v == i64::MAX as u64 + 1 {
            Some(Resolved::Int(i64::MIN))
        } else {
            None
        }
    } else if v <= i64::MAX as u64 {
        Some(Resolved::Int(v as i64))
    } else {
        Some(Resolved::Uint(v))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `s` without the underscores Go's number syntax allows (each between two digits).
fn go_underscores(s: &str) -> Option<String> {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_'
            && !(i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            return None;
        }
    }
    Some(s.replace('_', ""))
}

fn finite_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml's resolution of an untagged plain scalar (or one tagged with a core tag).
fn resolve_plain(text: &str, timestamps: bool) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => {
            // Go's ParseFloat: `_` may separate digits.
            if let Some(t) = go_underscores(text)
                && yaml_style_float(&t)
                && let Some(f) = finite_float(&t)
            {
                return Resolved::Float(f);
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if timestamps && let Some(t) = Timestamp::parse_yaml(text) {
                return Resolved::Time(t);
            }
            let plain = text.replace('_', "");
            if let Some(r) = as_int(&plain) {
                return r;
            }
            if yaml_style_float(&plain)
                && let Some(f) = finite_float(&plain)
            {
                return Resolved::Float(f);
            }
        }
        _ => {}
    }
    Resolved::Str(text.to_string())
}

/// Types a scalar given its style and tag, as go-yaml v3 decodes it into `interface{}`.
pub fn resolve(text: &str, style: Style, tag: Option<&str>) -> Result<Resolved, String> {
    let tag = tag.map(short_tag);
    let Some(tag) = tag else {
        return Ok(if style == Style::Plain {
            resolve_plain(text, true)
        } else {
            Resolved::Str(text.to_string())
        });
    };
    let fail = |want: &str| format!("cannot decode the scalar at this position as {want}");
    Ok(match tag.as_str() {
        "!!str" => Resolved::Str(text.to_string()),
        "!!binary" => {
            let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            Resolved::Binary(
                crate::sops::cipher::go_base64(&cleaned)
                    .ok_or_else(|| "invalid base64 in a !!binary scalar".to_string())?,
            )
        }
        "!!null" => match resolve_plain(text, false) {
            Resolved::Null => Resolved::Null,
            _ => return Err(fail("!!null")),
        },
        "!!bool" => match resolve_plain(text, false) {
            r @ Resolved::Bool(_) => r,
            _ => return Err(fail("!!bool")),
        },
        "!!int" => match resolve_plain(text, false) {
            r @ (Resolved::Int(_) | Resolved::Uint(_)) => r,
            _ => return Err(fail("!!int")),
        },
        "!!float" => match resolve_plain(text, false) {
            r @ Resolved::Float(_) => r,
            Resolved::Int(i) => Resolved::Float(i as f64),
            Resolved::Uint(u) => Resolved::Float(u as f64),
            _ => return Err(fail("!!float")),
        },
        "!!timestamp" => match Timestamp::parse_yaml(text) {
            Some(t) => Resolved::Time(t),
            None => return Err(fail("!!timestamp")),
        },
        // Custom and non-specific tags keep the text.
        _ => Resolved::Str(text.to_string()),
    })
}

/// Would a plain scalar with this text read back as a string (and the same string)?
pub fn is_plain_string(text: &str) -> bool {
    matches!(resolve_plain(text, true), Resolved::Str(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Resolved {
        resolve(s, Style::Plain, None).unwrap()
    }

    #[test]
    fn go_yaml_v3_plain_resolution() {
        assert_eq!(p("~"), Resolved::Null);
        assert_eq!(p(""), Resolved::Null);
        assert_eq!(p("True"), Resolved::Bool(true));
        assert_eq!(p("yes"), Resolved::Str("yes".into()));
        assert_eq!(p("on"), Resolved::Str("on".into()));
        assert_eq!(p("0x1F"), Resolved::Int(31));
        assert_eq!(p("0o17"), Resolved::Int(15));
        assert_eq!(p("0777"), Resolved::Int(511));
        assert_eq!(p("0b101"), Resolved::Int(5));
        assert_eq!(p("1_000"), Resolved::Int(1000));
        assert_eq!(p("+5"), Resolved::Int(5));
        assert_eq!(p("-0x10"), Resolved::Int(-16));
        assert_eq!(p("09"), Resolved::Float(9.0));
        assert_eq!(p("18446744073709551615"), Resolved::Uint(u64::MAX));
        assert_eq!(
            p("+18446744073709551615"),
            Resolved::Float(18446744073709551615.0)
        );
        assert_eq!(
            p("18446744073709551616"),
            Resolved::Float(18446744073709551616.0)
        );
        assert_eq!(p("1e3"), Resolved::Float(1000.0));
        assert_eq!(p(".5"), Resolved::Float(0.5));
        assert_eq!(p("1."), Resolved::Float(1.0));
        assert_eq!(p("-.inf"), Resolved::Float(f64::NEG_INFINITY));
        assert_eq!(p("1e400"), Resolved::Str("1e400".into()));
        assert_eq!(p("12:30"), Resolved::Str("12:30".into()));
        assert_eq!(p("<<"), Resolved::Str("<<".into()));
        assert!(matches!(p("2001-12-14"), Resolved::Time(_)));
        assert_eq!(
            p("2001-12-14 21:59:43.10 -5"),
            Resolved::Str("2001-12-14 21:59:43.10 -5".into())
        );
    }

    #[test]
    fn quoted_and_tagged() {
        assert_eq!(
            resolve("123", Style::Double, None).unwrap(),
            Resolved::Str("123".into())
        );
        assert_eq!(
            resolve("123", Style::Plain, Some("!!str")).unwrap(),
            Resolved::Str("123".into())
        );
        assert_eq!(
            resolve("3", Style::Double, Some("!!int")).unwrap(),
            Resolved::Int(3)
        );
        assert_eq!(
            resolve("3", Style::Plain, Some("!!float")).unwrap(),
            Resolved::Float(3.0)
        );
        assert_eq!(
            resolve("aGk=", Style::Plain, Some("!!binary")).unwrap(),
            Resolved::Binary(b"hi".to_vec())
        );
        assert_eq!(
            resolve("x", Style::Plain, Some("!custom")).unwrap(),
            Resolved::Str("x".into())
        );
        assert!(resolve("x", Style::Plain, Some("!!int")).is_err());
    }
}
