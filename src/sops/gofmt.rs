//! Go's number formatting, as the sops stores print values.
//!
//! Byte-identical output (and the MAC) depend on printing numbers exactly as
//! Go's `strconv` does: `'f', -1` for MAC bytes and encrypted floats, `'g'`
//! for YAML, `'G'` (with a forced `.0`) for dotenv and INI via sops'
//! `ValToString`. Rust's shortest round-trip digits are the same digits Go
//! produces; only the layout differs, which this module reproduces.

use super::tree::Value;

/// `strconv.FormatFloat(f, 'f', -1, 64)`.
pub fn float_f(f: f64) -> String {
    // Rust's Display prints the shortest round-trip digits, never an exponent.
    special(f).unwrap_or_else(|| format!("{f}"))
}

/// Shortest digits and decimal exponent: `f = 0.d1d2d3… × 10^dp`.
fn digits(f: f64) -> (String, i32) {
    digits_of(&format!("{:e}", f.abs()))
}

/// Digits and exponent from Rust's shortest `{:e}` text (`1.25e-3`).
fn digits_of(s: &str) -> (String, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        ("0".into(), 1)
    } else {
        (digits.to_string(), exp + 1)
    }
}

/// Go's text for NaN and the infinities, or None for a finite number.
fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

/// `strconv.FormatFloat(f, 'g' or 'G', -1, 64)`.
pub fn float_g(f: f64, upper: bool) -> String {
    special(f).unwrap_or_else(|| layout_g(f.is_sign_negative(), f == 0.0, digits(f), upper))
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits that read back
/// as the same `float32` (how sigs.k8s.io/yaml turns a float into a string).
pub fn float_g32(f: f32) -> String {
    special(f64::from(f)).unwrap_or_else(|| {
        layout_g(
            f.is_sign_negative(),
            f == 0.0,
            digits_of(&format!("{:e}", f.abs())),
            false,
        )
    })
}

/// Go's `%g` layout of shortest digits `d` with decimal exponent `dp`.
fn layout_g(neg: bool, zero: bool, (d, dp): (String, i32), upper: bool) -> String {
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if zero {
        out.push('0');
        return out;
    }
    // Shortest 'g' uses %e when the exponent is below -4 or at least 6 (Go's eprec).
    if !(-4..6).contains(&exp) {
        out.push_str(&d[..1]);
        if d.len() > 1 {
            out.push('.');
            out.push_str(&d[1..]);
        }
        out.push(if upper { 'E' } else { 'e' });
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&d);
    } else {
        let dp = dp as usize;
        if d.len() <= dp {
            out.push_str(&d);
            for _ in d.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(&d[..dp]);
            out.push('.');
            out.push_str(&d[dp..]);
        }
    }
    out
}

/// sops' `stores.ValToString` for non-string values (dotenv and INI output).
pub fn val_to_string(v: &Value) -> String {
    match v {
        Value::Float(f) => {
            let r = float_g(*f, true);
            if !r.contains('.') && !r.contains('E') && f.is_finite() {
                // Go: FormatFloat(v, 'f', 1, 64)
                format!("{f:.1}")
            } else {
                r
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Time(t) => t.rfc3339(),
        Value::Null => "<nil>".into(),
        Value::Str(s) | Value::Comment(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        Value::Map(_) | Value::List(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_like_go() {
        assert_eq!(float_g(1234568000.0, false), "1.234568e+09");
        assert_eq!(float_g(1.0, false), "1");
        assert_eq!(float_g(25.4, false), "25.4");
        assert_eq!(float_g(100000.0, false), "100000");
        assert_eq!(float_g(1000000.0, false), "1e+06");
        assert_eq!(float_g(0.0001, false), "0.0001");
        assert_eq!(float_g(0.00001, false), "1e-05");
        assert_eq!(float_g(-1.5e300, true), "-1.5E+300");
        assert_eq!(float_g(0.0, false), "0");
        assert_eq!(float_g(-0.0, false), "-0");
        assert_eq!(float_g(123456.0, false), "123456");
        assert_eq!(float_g(1234567.0, false), "1.234567e+06");
    }

    #[test]
    fn val_to_string_like_sops() {
        assert_eq!(val_to_string(&Value::Float(100.0)), "100.0");
        assert_eq!(val_to_string(&Value::Float(25.4)), "25.4");
        assert_eq!(val_to_string(&Value::Float(1e21)), "1E+21");
        assert_eq!(val_to_string(&Value::Bool(true)), "true");
        assert_eq!(val_to_string(&Value::Int(-3)), "-3");
    }

    #[test]
    fn f_format_like_go() {
        assert_eq!(float_f(1.0), "1");
        assert_eq!(float_f(1e21), "1000000000000000000000");
        assert_eq!(float_f(f64::NEG_INFINITY), "-Inf");
    }
}

/// Go's view of bytes as text: every byte that is not part of a valid UTF-8
/// sequence becomes one U+FFFD (Rust's `from_utf8_lossy` replaces maximal
/// invalid subsequences instead, which differs on truncated sequences).
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            let mut rest = bytes;
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let (good, bad) = rest.split_at(e.valid_up_to());
                        out.push_str(std::str::from_utf8(good).unwrap_or_default());
                        out.push('\u{fffd}');
                        rest = &bad[1..];
                    }
                }
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod lossy_tests {
    #[test]
    fn one_replacement_per_invalid_byte() {
        assert_eq!(super::lossy(b"A\xe2\x82B"), "A\u{fffd}\u{fffd}B");
        assert_eq!(super::lossy(b"\xf0\x9f\x98C"), "\u{fffd}\u{fffd}\u{fffd}C");
        assert_eq!(super::lossy("é".as_bytes()), "é");
    }
}
