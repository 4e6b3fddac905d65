//! Printing node trees in go-yaml v3's style.
//!
//! `sops decrypt` prints YAML with go-yaml v3 at indentation 4, so matching
//! it byte for byte means following that emitter: its scalar analysis (which
//! strings may be plain, single-quoted or literal), its escapes, its
//! indentation arithmetic (nested blocks align to multiples of the indent;
//! content of a `- ` item sits two columns in), explicit `? ` keys for long
//! or multi-line keys, and where head and foot comments go. Lines are never
//! folded (go-yaml v3 is configured with an unlimited width). The same code,
//! with indentation 2 and compact sequences, prints Kubernetes objects.

use super::resolve::{Resolved, resolve};
use super::{Node, Style, Value};
use crate::sops::gofmt::float_g;
use crate::sops::tree::Value as TreeValue;

mod style;
use style::{is_break, select_style, write_double, write_literal, write_single};

/// Layout choices.
#[derive(Clone, Debug)]
pub struct Options {
    /// Spaces per nesting level.
    pub indent: usize,
    /// Sequences under a mapping key start at the key's column (`kubectl` style).
    pub compact_seq: bool,
}

impl Options {
    /// `sops decrypt`: indentation 4, sequences indented under their key.
    pub fn sops() -> Options {
        Options {
            indent: 4,
            compact_seq: false,
        }
    }

    /// Kubernetes manifests: indentation 2, compact sequences.
    pub fn kubernetes() -> Options {
        Options {
            indent: 2,
            compact_seq: true,
        }
    }
}

// ---- building scalar nodes from values -----------------------------------

/// go-yaml v3's list of YAML 1.1 booleans it quotes.
pub(crate) fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (YAML 1.1 sexagesimal).
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let n = i - start;
        if n == 0 || (n == 2 && b[start] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// The style go-yaml's encoder asks for a string (the emitter may still quote it).
pub fn requested_style(s: &str) -> Style {
    if s.contains('\n') {
        return Style::Literal;
    }
    let plain_ok = matches!(resolve(s, Style::Plain, None), Ok(Resolved::Str(_)))
        && !is_base60_float(s)
        && !is_old_bool(s);
    if plain_ok {
        Style::Plain
    } else {
        Style::Double
    }
}

/// go-yaml's base64 for `!!binary`: 70-column lines, each ending in `\n` when wrapped.
pub fn wrap_base64(b64: &str) -> String {
    if b64.len() < 70 {
        return b64.to_string();
    }
    let mut out = String::with_capacity(b64.len() + b64.len() / 70 + 1);
    for chunk in b64.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// A string scalar node as go-yaml's encoder builds it.
pub fn string_node(s: &[u8]) -> Node {
    match std::str::from_utf8(s) {
        Ok("<<") => {
            let mut n = Node::scalar("<<", Style::Plain);
            n.tag = Some("!!merge".into());
            n
        }
        Ok(text) => Node::scalar(text, requested_style(text)),
        Err(_) => {
            use base64::Engine as _;
            let b64 = wrap_base64(&base64::engine::general_purpose::STANDARD.encode(s));
            let style = if b64.contains('\n') {
                Style::Literal
            } else {
                Style::Plain
            };
            let mut n = Node::scalar(b64, style);
            n.tag = Some("!!binary".into());
            n
        }
    }
}

/// go-yaml's text for a float: `'g'` with `.inf`, `-.inf`, `.nan`.
pub fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f == f64::INFINITY {
        ".inf".into()
    } else if f == f64::NEG_INFINITY {
        "-.inf".into()
    } else {
        float_g(f, false)
    }
}

/// A scalar node for a tree value (mappings and lists are built by the caller).
pub fn value_node(v: &TreeValue) -> Node {
    let plain = |t: String| Node::scalar(t, Style::Plain);
    match v {
        TreeValue::Null => plain("null".into()),
        TreeValue::Bool(b) => plain(b.to_string()),
        TreeValue::Int(i) => plain(i.to_string()),
        TreeValue::Uint(u) => plain(u.to_string()),
        TreeValue::Float(f) => plain(float_text(*f)),
        TreeValue::Time(t) => plain(t.rfc3339_nano()),
        TreeValue::Str(s) | TreeValue::Comment(s) => string_node(s.as_bytes()),
        TreeValue::Map(_) | TreeValue::List(_) => plain("null".into()),
    }
}

/// A mapping key node for a string key.
pub fn key_node(k: &str) -> Node {
    string_node(k.as_bytes())
}

struct Emitter<'o> {
    out: String,
    o: &'o Options,
}

impl Emitter<'_> {
    fn pad(&mut self, col: usize) {
        self.out.extend(std::iter::repeat_n(' ', col));
    }

    fn comments(&mut self, col: usize, comments: &[String]) {
        for c in comments {
            self.pad(col);
            self.out.push('#');
            self.out.push_str(c);
            self.out.push('\n');
        }
    }

    /// go-yaml's indentation for a nested block: two in from a `- `, else the
    /// next multiple of the indent.
    fn child(&self, col: usize, in_seq_item: bool) -> usize {
        if in_seq_item {
            col + 2
        } else {
            let b = self.o.indent;
            b * ((col + b) / b)
        }
    }

    fn props(&mut self, n: &Node) {
        if let Some(a) = &n.anchor {
            self.out.push('&');
            self.out.push_str(a);
            self.out.push(' ');
        }
        if let Some(t) = &n.tag {
            self.out.push_str(t);
            self.out.push(' ');
        }
    }

    /// A scalar's text in its final style (block scalars indent at `block_indent`).
    fn scalar(
        &mut self,
        text: &str,
        requested: Style,
        tagged: bool,
        simple_key: bool,
        block_indent: usize,
    ) {
        match select_style(text, requested, simple_key, tagged) {
            Style::Plain => self.out.push_str(text),
            Style::Single => write_single(&mut self.out, text, block_indent),
            Style::Double => write_double(&mut self.out, text),
            Style::Literal | Style::Folded => {
                write_literal(&mut self.out, text, block_indent, self.o.indent)
            }
        }
    }

    fn is_block_collection(n: &Node) -> bool {
        match &n.value {
            Value::Map { entries, .. } => !entries.is_empty(),
            Value::Seq { items, .. } => !items.is_empty(),
            _ => false,
        }
    }

    /// A node that follows `key:`, `- ` or `? ` on the current line. `col` is
    /// the owner's column; `in_seq_item` whether the owner is a `- ` item.
    fn inline(&mut self, n: &Node, col: usize, in_seq_item: bool, after_dash: bool) {
        let child = self.child(col, in_seq_item);
        match &n.value {
            Value::Scalar { text, style } => {
                self.props(n);
                self.scalar(text, *style, n.tag.is_some(), false, child);
                self.out.push('\n');
            }
            Value::Alias(name) => {
                self.out.push('*');
                self.out.push_str(name);
                self.out.push('\n');
            }
            Value::Map { entries, foot, .. } if entries.is_empty() => {
                self.props(n);
                self.out.push_str("{}\n");
                let _ = foot;
            }
            Value::Seq { items, foot, .. } if items.is_empty() => {
                self.props(n);
                self.out.push_str("[]\n");
                self.comments(col, foot);
            }
            Value::Map { entries, foot, .. } => {
                // A tagged or anchored collection cannot open on the `- ` / `: ` line
                // (the properties would belong to its first key): it starts below.
                if after_dash && n.anchor.is_none() && n.tag.is_none() {
                    // `- key: v` — the mapping starts on the dash's line.
                    self.props_line(n, child);
                    self.entries(entries, child, true);
                    self.comments(child, foot);
                } else {
                    self.props_line(n, child);
                    self.out.push('\n');
                    self.entries(entries, child, false);
                    self.comments(child, foot);
                }
            }
            Value::Seq { items, foot, .. } => {
                let seq_col = if after_dash || !self.o.compact_seq || in_seq_item {
                    child
                } else {
                    col
                };
                let inline_first = after_dash && n.anchor.is_none() && n.tag.is_none();
                self.props_line(n, seq_col);
                if !inline_first {
                    self.out.push('\n');
                }
                self.items(items, seq_col, inline_first);
                self.seq_foot(items, foot, seq_col);
            }
        }
    }

    fn props_line(&mut self, n: &Node, _col: usize) {
        if n.anchor.is_some() || n.tag.is_some() {
            let before = self.out.len();
            self.props(n);
            // `key: &a` then the block on the next lines.
            if self.out.ends_with(' ') && self.out.len() > before {
                self.out.pop();
            }
        }
    }

    fn seq_foot(&mut self, items: &[super::SeqItem], foot: &[String], seq_col: usize) {
        let col = match items.last() {
            Some(last) if Self::is_block_collection(&last.node) => seq_col + 2,
            _ => seq_col,
        };
        self.comments(col, foot);
    }

    fn simple_key(&self, k: &Node) -> bool {
        match &k.value {
            Value::Scalar { text, .. } => {
                let len = text.len()
                    + k.tag.as_ref().map_or(0, String::len)
                    + k.anchor.as_ref().map_or(0, String::len);
                !text.contains(is_break) && len <= 128
            }
            Value::Alias(_) => true,
            Value::Map { entries, .. } => entries.is_empty(),
            Value::Seq { items, .. } => items.is_empty(),
        }
    }

    /// Mapping entries at `col`; with `first_inline`, the first entry
    /// continues the current line (after `- `).
    fn entries(&mut self, entries: &[super::Entry], col: usize, first_inline: bool) {
        for (i, e) in entries.iter().enumerate() {
            if i == 0 && first_inline {
                // Comments of the first entry go before the dash; the caller printed them.
            } else {
                self.comments(col, &e.comments);
                self.pad(col);
            }
            if self.simple_key(&e.key) {
                match &e.key.value {
                    Value::Scalar { text, style } => {
                        self.props(&e.key);
                        self.scalar(text, *style, e.key.tag.is_some(), true, col);
                    }
                    Value::Alias(name) => {
                        self.out.push('*');
                        self.out.push_str(name);
                        self.out.push(' ');
                    }
                    Value::Map { .. } => self.out.push_str("{}"),
                    Value::Seq { .. } => self.out.push_str("[]"),
                }
                self.out.push(':');
                if Self::is_block_collection(&e.value)
                    && e.value.anchor.is_none()
                    && e.value.tag.is_none()
                {
                    self.inline(&e.value, col, false, false);
                } else {
                    self.out.push(' ');
                    self.inline(&e.value, col, false, false);
                }
            } else {
                // `? key` / `: value`
                self.out.push_str("? ");
                let child = self.child(col, false);
                match &e.key.value {
                    Value::Scalar { text, style } => {
                        self.props(&e.key);
                        self.scalar(text, *style, e.key.tag.is_some(), false, child);
                        self.out.push('\n');
                    }
                    _ => self.inline(&e.key, col, false, true),
                }
                self.pad(col);
                self.out.push(':');
                if Self::is_block_collection(&e.value) {
                    self.pad(child - col - 1);
                    self.inline(&e.value, child.saturating_sub(2), true, true);
                } else {
                    self.out.push(' ');
                    self.inline(&e.value, col, false, false);
                }
            }
        }
    }

    /// Comments go-yaml prints above a `- ` for a collection that opens on
    /// the dash's line: those of its first element, and so on inward.
    fn lead(n: &Node) -> Vec<&String> {
        if n.anchor.is_some() || n.tag.is_some() {
            // It opens below the dash (see `inline`): its comments stay with it.
            return Vec::new();
        }
        match &n.value {
            Value::Map { entries, .. } => entries
                .first()
                .map(|e| e.comments.iter().collect())
                .unwrap_or_default(),
            Value::Seq { items, .. } => items
                .first()
                .map(|i| {
                    let mut v: Vec<&String> = i.comments.iter().collect();
                    v.extend(Self::lead(&i.node));
                    v
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Sequence items at `col`; with `first_inline`, the first `- ` continues
    /// the line (its comments were printed by the caller).
    fn items(&mut self, items: &[super::SeqItem], col: usize, first_inline: bool) {
        for (i, it) in items.iter().enumerate() {
            if !(i == 0 && first_inline) {
                self.comments(col, &it.comments);
                let lead: Vec<String> = Self::lead(&it.node).into_iter().cloned().collect();
                self.comments(col, &lead);
                self.pad(col);
            }
            self.out.push_str("- ");
            self.inline(&it.node, col, true, true);
        }
    }

    fn document(&mut self, n: &Node) {
        match &n.value {
            Value::Map { entries, foot, .. } if !entries.is_empty() => {
                self.entries(entries, 0, false);
                self.comments(0, foot);
            }
            Value::Map { foot, .. } => {
                self.comments(0, foot);
                self.props(n);
                self.out.push_str("{}\n");
            }
            Value::Seq { items, foot, .. } if !items.is_empty() => {
                self.items(items, 0, false);
                self.seq_foot(items, foot, 0);
            }
            Value::Seq { foot, .. } => {
                self.comments(0, foot);
                self.out.push_str("[]\n");
            }
            Value::Scalar { text, style } => {
                self.props(n);
                self.scalar(text, *style, n.tag.is_some(), false, self.o.indent);
                self.out.push('\n');
            }
            Value::Alias(name) => {
                self.out.push('*');
                self.out.push_str(name);
                self.out.push('\n');
            }
        }
    }
}

/// Prints documents separated by `---`.
pub fn emit_documents(docs: &[Node], o: &Options) -> String {
    let mut e = Emitter {
        out: String::new(),
        o,
    };
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            e.out.push_str("---\n");
        }
        e.document(d);
    }
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_styles_like_go_yaml() {
        let cases = [
            ("hello world", "hello world"),
            ("123", "\"123\""),
            ("yes", "\"yes\""),
            ("y", "\"y\""),
            ("1:20", "\"1:20\""),
            (" lead", "' lead'"),
            ("'x", "'''x'"),
            ("a\tb", "\"a\\tb\""),
            ("foo #bar", "'foo #bar'"),
            ("a: b", "'a: b'"),
            ("key:", "'key:'"),
            ("-", "'-'"),
            ("-foo", "-foo"),
            ("---x", "'---x'"),
            ("", "\"\""),
            ("a\u{7f}b", "\"a\\x7Fb\""),
            ("smile \u{1F600}", "\"smile \\U0001F600\""),
            ("a\rb", "\"a\\rb\""),
        ];
        for (input, want) in cases {
            let n = string_node(input.as_bytes());
            let Value::Scalar { text, style } = &n.value else {
                panic!()
            };
            let mut out = String::new();
            match select_style(text, *style, false, false) {
                Style::Plain => out.push_str(text),
                Style::Single => write_single(&mut out, text, 0),
                Style::Double => write_double(&mut out, text),
                _ => write_literal(&mut out, text, 4, 4),
            }
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn literal_hints() {
        let mut o = String::new();
        write_literal(&mut o, "\n", 4, 4);
        assert_eq!(o, "|4+\n");
        let mut o = String::new();
        write_literal(&mut o, "a\nb", 4, 4);
        assert_eq!(o, "|-\n    a\n    b");
        let mut o = String::new();
        write_literal(&mut o, "a\n\nb\n", 4, 4);
        assert_eq!(o, "|\n    a\n\n    b");
    }

    #[test]
    fn base60_and_floats() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(!is_base60_float("12:61"));
        assert!(!is_base60_float("10.0.0.1"));
        assert_eq!(float_text(1234568000.0), "1.234568e+09");
        assert_eq!(float_text(1e-7), "1e-07");
        assert_eq!(float_text(f64::INFINITY), ".inf");
    }
}
