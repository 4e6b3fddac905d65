//! The JSON store: sops' token-order JSON reading, and `sops decrypt`'s
//! JSON printing byte for byte.
//!
//! Reading keeps key order and duplicate keys (sops walks and hashes them
//! all), replaces invalid UTF-8 with U+FFFD as Go's decoder does, and types
//! numbers as sops did at the file's version: always float64 up to 3.13.1,
//! int64 where the text is an integer from 3.13.2. Printing reproduces Go's
//! `json.Marshal` (HTML-safe escaping, Go float forms) followed by
//! `json.Indent` with a tab, and a final newline.

use crate::sops::gofmt::{float_f, lossy};
use crate::sops::metadata::Meta;
use crate::sops::tree::{Branch, Item, SecretBytes, Value};

/// Deepest nesting accepted (Go's decoder allows 10,000; we stop earlier, without recursion risk).
pub const MAX_DEPTH: usize = 512;

/// How JSON numbers become values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Numbers {
    /// sops ≤ 3.13.1: every number is a float64.
    AllFloat,
    /// sops ≥ 3.13.2: integers that fit int64 are ints.
    IntsWhenIntegral,
}

/// A parsed JSON value (before it becomes a tree value or metadata).
#[derive(Debug)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(Vec<u8>),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// Object members and array items read so far (bounded, as for YAML).
    nodes: usize,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> PResult<T> {
        let line = self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Err(format!("invalid JSON at line {line}: {what}"))
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> PResult<J> {
        if depth > MAX_DEPTH {
            return self.err(&format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.nodes += 1;
        if self.nodes > crate::yaml::MAX_NODES {
            return self.err(&format!(
                "more than {} values (a SOPS file this large is not supported)",
                crate::yaml::MAX_NODES
            ));
        }
        self.ws();
        match self.s.get(self.i) {
            None => self.err("unexpected end of input"),
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(J::Obj(items));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected a string key");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("expected ':' after an object key");
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    items.push((String::from_utf8_lossy(&k).into_owned(), v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(J::Obj(items));
                        }
                        _ => return self.err("expected ',' or '}' in an object"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(J::Arr(items));
                        }
                        _ => return self.err("expected ',' or ']' in an array"),
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') => self.literal("true", J::Bool(true)),
            Some(b'f') => self.literal("false", J::Bool(false)),
            Some(b'n') => self.literal("null", J::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn literal(&mut self, word: &str, v: J) -> PResult<J> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> PResult<J> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while let Some(b'0'..=b'9') = p.s.get(p.i) {
                p.i += 1;
            }
            p.i > s
        };
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return self.err("invalid number");
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if !digits(self) {
                return self.err("invalid number");
            }
        }
        Ok(J::Num(
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
        ))
    }

    fn hex4(&mut self) -> PResult<u32> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or("truncated \\u escape")?;
        let t = std::str::from_utf8(h).map_err(|_| "invalid \\u escape")?;
        let v = u32::from_str_radix(t, 16).map_err(|_| "invalid \\u escape")?;
        self.i += 4;
        Ok(v)
    }

    /// A string body, decoded; invalid UTF-8 and lone surrogates become U+FFFD (as Go).
    fn string(&mut self) -> PResult<Vec<u8>> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            match b {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return self.err("unterminated string");
                    };
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                        .unwrap_or('\u{fffd}')
                                } else {
                                    self.i = save;
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => return self.err("invalid escape in string"),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return self.err("control character in string"),
                _ => {
                    // Copy a run of plain bytes, fixing invalid UTF-8 as Go does.
                    let start = self.i;
                    while let Some(&c) = self.s.get(self.i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.i += 1;
                    }
                    out.extend_from_slice(lossy(&self.s[start..self.i]).as_bytes());
                }
            }
        }
        Ok(out)
    }
}

fn parse(input: &[u8]) -> PResult<J> {
    let mut p = Parser {
        s: input,
        i: 0,
        nodes: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != input.len() {
        return p.err("unexpected data after the top-level value");
    }
    Ok(v)
}

fn to_value(j: J, numbers: Numbers) -> PResult<Value> {
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Str(s) => Value::Str(SecretBytes::new(s)),
        J::Num(t) => {
            let integral = !t.contains(['.', 'e', 'E']);
            match (numbers, integral, t.parse::<i64>()) {
                (Numbers::IntsWhenIntegral, true, Ok(i)) => Value::Int(i),
                _ => {
                    let f: f64 = t.parse().map_err(|_| format!("invalid number {t}"))?;
                    if f.is_infinite() {
                        return Err(format!("number {t} is out of range"));
                    }
                    Value::Float(f)
                }
            }
        }
        J::Arr(items) => Value::List(
            items
                .into_iter()
                .map(|i| to_value(i, numbers))
                .collect::<PResult<_>>()?,
        ),
        J::Obj(items) => Value::Map(to_branch(items, numbers)?),
    })
}

fn to_branch(items: Vec<(String, J)>, numbers: Numbers) -> PResult<Branch> {
    let mut b = Branch::new();
    for (k, v) in items {
        b.push(k, to_value(v, numbers)?);
    }
    Ok(b)
}

fn to_meta(j: &J) -> Meta {
    match j {
        J::Null => Meta::Null,
        J::Bool(b) => Meta::Scalar(b.to_string()),
        J::Num(t) => Meta::Scalar(t.clone()),
        J::Str(s) => Meta::Scalar(String::from_utf8_lossy(s).into_owned()),
        J::Arr(a) => Meta::List(a.iter().map(to_meta).collect()),
        J::Obj(o) => Meta::Map(o.iter().map(|(k, v)| (k.clone(), to_meta(v))).collect()),
    }
}

/// A JSON file split into its data and its `sops` metadata (if any).
pub struct JsonFile {
    items: Vec<(String, J)>,
    pub meta: Option<Meta>,
}

/// Parses a JSON document whose top level must be an object.
pub fn load(input: &[u8]) -> PResult<JsonFile> {
    let J::Obj(mut items) = parse(input)? else {
        return Err("the top level of a sops JSON file must be an object".into());
    };
    let count = items.iter().filter(|(k, _)| k == "sops").count();
    if count > 1 {
        return Err("the top-level key `sops` appears more than once".into());
    }
    let meta = items
        .iter()
        .position(|(k, _)| k == "sops")
        .map(|i| items.remove(i))
        .map(|(_, v)| to_meta(&v));
    Ok(JsonFile { items, meta })
}

impl JsonFile {
    /// The data as a tree, typing numbers the way the writing sops version did.
    pub fn into_branch(self, numbers: Numbers) -> PResult<Branch> {
        to_branch(self.items, numbers)
    }
}

/// Appends `s` as Go's `json.Marshal` writes a string (HTML-safe).
pub fn go_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut rest = s;
    while !rest.is_empty() {
        let (good, bad) = match std::str::from_utf8(rest) {
            Ok(all) => (all, &[][..]),
            Err(e) => {
                let (g, b) = rest.split_at(e.valid_up_to());
                (std::str::from_utf8(g).unwrap_or_default(), b)
            }
        };
        escape_chars(out, good);
        if bad.is_empty() {
            break;
        }
        // Each invalid byte prints as the escape \ufffd, one per byte (as Go's encoder).
        out.extend_from_slice(b"\\ufffd");
        rest = &bad[1..];
    }
    out.push(b'"');
}

fn escape_chars(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let v = c as u32;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(v >> 4) as usize]);
                out.push(HEX[(v & 15) as usize]);
            }
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            _ => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// Go's `encoding/json` float form: 'f' unless the exponent is extreme, then a cleaned 'e'.
pub fn go_json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        // Shortest round-trip digits in scientific form, Go style: 1e+21, 1e-7, 1.5e-10.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let sign = if exp < 0 { '-' } else { '+' };
        let e = exp.unsigned_abs();
        Some(if e < 10 && exp >= 0 {
            format!("{mant}e{sign}0{e}")
        } else {
            format!("{mant}e{sign}{e}")
        })
    } else {
        Some(float_f(f))
    }
}

fn emit_value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), String> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Uint(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Value::Float(f) => {
            let s = go_json_float(*f).ok_or("JSON cannot represent NaN or infinity")?;
            out.extend_from_slice(s.as_bytes());
        }
        Value::Str(s) => go_string(out, s.as_bytes()),
        Value::Time(t) => go_string(out, t.rfc3339_nano().as_bytes()),
        Value::Comment(_) => {}
        Value::List(items) => {
            let items: Vec<&Value> = items
                .iter()
                .filter(|v| !matches!(v, Value::Comment(_)))
                .collect();
            if items.is_empty() {
                out.extend_from_slice(b"[]");
                return Ok(());
            }
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                emit_value(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push(b']');
        }
        Value::Map(b) => emit_branch(out, b, depth)?,
    }
    Ok(())
}

fn newline(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    out.extend(std::iter::repeat_n(b'\t', depth));
}

fn emit_branch(out: &mut Vec<u8>, b: &Branch, depth: usize) -> Result<(), String> {
    let entries: Vec<(&String, &Value)> =
        b.0.iter()
            .filter_map(|i| match i {
                Item::Entry(k, v) => Some((k, v)),
                Item::Comment(_) => None,
            })
            .collect();
    if entries.is_empty() {
        out.extend_from_slice(b"{}");
        return Ok(());
    }
    out.push(b'{');
    for (n, (k, v)) in entries.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        newline(out, depth + 1);
        go_string(out, k.as_bytes());
        out.extend_from_slice(b": ");
        emit_value(out, v, depth + 1)?;
    }
    newline(out, depth);
    out.push(b'}');
    Ok(())
}

/// Prints the first document as `sops decrypt --output-type json` does.
pub fn emit(docs: &[Branch]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let empty = Branch::new();
    emit_branch(&mut out, docs.first().unwrap_or(&empty), 0)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(input: &str, numbers: Numbers) -> String {
        let f = load(input.as_bytes()).unwrap();
        let b = f.into_branch(numbers).unwrap();
        String::from_utf8(emit(&[b]).unwrap()).unwrap()
    }

    #[test]
    fn prints_like_go_marshal_and_indent() {
        let out = roundtrip(
            r#"{"foo":"bar","n":[1,2.50,{}],"e":[],"x":{"y":null,"z":true},"h":"<a&b>"}"#,
            Numbers::AllFloat,
        );
        assert_eq!(
            out,
            "{\n\t\"foo\": \"bar\",\n\t\"n\": [\n\t\t1,\n\t\t2.5,\n\t\t{}\n\t],\n\t\"e\": [],\n\t\"x\": {\n\t\t\"y\": null,\n\t\t\"z\": true\n\t},\n\t\"h\": \"\\u003ca\\u0026b\\u003e\"\n}\n"
        );
    }

    #[test]
    fn keeps_duplicates_and_order() {
        let out = roundtrip(r#"{"b":1,"a":2,"b":3}"#, Numbers::AllFloat);
        assert_eq!(out, "{\n\t\"b\": 1,\n\t\"a\": 2,\n\t\"b\": 3\n}\n");
    }

    #[test]
    fn number_modes() {
        let big = r#"{"n":1234567890123456789}"#;
        assert!(roundtrip(big, Numbers::AllFloat).contains("1234567890123456800"));
        assert!(roundtrip(big, Numbers::IntsWhenIntegral).contains("1234567890123456789"));
        assert_eq!(go_json_float(1e21).unwrap(), "1e+21");
        assert_eq!(go_json_float(1e-7).unwrap(), "1e-7");
        assert_eq!(go_json_float(0.000001).unwrap(), "0.000001");
        assert_eq!(go_json_float(1.5e300).unwrap(), "1.5e+300");
        assert_eq!(go_json_float(-2e-10).unwrap(), "-2e-10");
    }

    #[test]
    fn string_escapes() {
        let mut o = Vec::new();
        go_string(&mut o, "a\u{1}\u{8}\u{7f}\u{2028}é\"\\".as_bytes());
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "\"a\\u0001\\b\u{7f}\\u2028é\\\"\\\\\""
        );
        let mut o = Vec::new();
        go_string(&mut o, b"\xff\xe2\x82");
        assert_eq!(o, b"\"\\ufffd\\ufffd\\ufffd\"");
    }

    #[test]
    fn rejects_bad_json_and_non_objects() {
        for bad in ["[1]", "{\"a\":}", "{\"a\":1} x", "{\"a\":01}", "\"s\"", ""] {
            assert!(load(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert!(load(format!("{{\"a\":{deep}").as_bytes()).is_err());
    }

    #[test]
    fn metadata_is_split_off() {
        let f = load(br#"{"a":"x","sops":{"mac":"m","version":"3.11.0"}}"#).unwrap();
        assert!(f.meta.is_some());
        let b = f.into_branch(Numbers::AllFloat).unwrap();
        assert_eq!(b.entries().count(), 1);
        assert!(load(br#"{"sops":{},"sops":{}}"#).is_err());
    }
}
