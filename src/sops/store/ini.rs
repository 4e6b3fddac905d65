//! The INI store: go-ini's reading rules (as sops configures it) and its
//! pretty writer.
//!
//! Unencrypted INI values enter the MAC after go-ini has altered them (inline
//! comments cut at the first `#`/`;`, surrounding quotes stripped, `"""`
//! and backtick values, `\` continuations), so reading must follow go-ini
//! rule for rule. The tree is one item per section (the implicit `DEFAULT`
//! first), each a branch of keys with their comments stored after them.
//! Printing reproduces go-ini's `WriteTo` with pretty alignment.

use crate::sops::gofmt::val_to_string;
use crate::sops::metadata::{Meta, unflatten};
use crate::sops::tree::{Branch, Item, SecretBytes, Value};

struct Key {
    name: String,
    value: String,
    comment: String,
}

struct Section {
    name: String,
    comment: String,
    keys: Vec<Key>,
}

/// Go's `strings.TrimSpace` (Unicode white space at both ends).
fn trim(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

fn trim_left(s: &str) -> &str {
    s.trim_start_matches(char::is_whitespace)
}

/// `text` from the first `#` or `;`, if any.
fn clean_comment(text: &str) -> Option<&str> {
    text.find(['#', ';']).map(|i| &text[i..])
}

struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    /// The next line including its `\n`, and whether input ended.
    fn next_line(&mut self) -> (&'a str, bool) {
        match self.rest.find('\n') {
            Some(i) => {
                let (l, r) = self.rest.split_at(i + 1);
                self.rest = r;
                (l, self.rest.is_empty())
            }
            None => {
                let l = self.rest;
                self.rest = "";
                (l, true)
            }
        }
    }
}

/// Key name and the offset of the value, as go-ini's `readKeyName`.
fn read_key_name(line: &str) -> Result<(String, usize), String> {
    let quote = if line.starts_with('"') {
        if line.len() > 6 && line.starts_with("\"\"\"") {
            "\"\"\""
        } else {
            "\""
        }
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let start = quote.len();
        let pos = line[start..]
            .find(quote)
            .ok_or_else(|| "missing closing key quote".to_string())?
            + start;
        let after = pos + start;
        let i = line
            .get(after..)
            .and_then(|s| s.find(['=', ':']))
            .ok_or_else(|| "key-value delimiter not found".to_string())?;
        return Ok((trim(&line[start..pos]).to_string(), pos + i + start + 1));
    }
    match line.find(['=', ':']) {
        None => Err("key-value delimiter not found".into()),
        Some(0) => Err("empty key name".into()),
        Some(i) => Ok((trim(&line[..i]).to_string(), i + 1)),
    }
}

fn has_surrounded_quote(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && s[1..].find(q) == Some(s.len() - 2)
}

/// go-ini's `readValue` (with `readMultilines` and `readContinuationLines`).
fn read_value(text: &str, lines: &mut Lines<'_>, comment: &mut String) -> Result<String, String> {
    let line = trim_left(text);
    if line.is_empty() {
        return Ok(String::new());
    }
    let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
        "\"\"\""
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let start = quote.len();
        if let Some(pos) = line[start..].rfind(quote) {
            return Ok(line[start..start + pos].to_string());
        }
        let mut val = line[start..].to_string();
        loop {
            let (next, eof) = lines.next_line();
            if let Some(pos) = next.rfind(quote) {
                val.push_str(&next[..pos]);
                if let Some(c) = clean_comment(&next[pos..]) {
                    comment.push_str(trim(c));
                }
                return Ok(val);
            }
            val.push_str(next);
            if eof {
                return Err("a quoted multi-line value is missing its closing quote".into());
            }
        }
    }
    let mut line = trim(line).to_string();
    if line.ends_with('\\') {
        line.pop();
        loop {
            let (next, _) = lines.next_line();
            let next = trim(next);
            if next.is_empty() {
                break;
            }
            line.push_str(next);
            if !line.ends_with('\\') {
                break;
            }
            line.pop();
        }
        return Ok(line);
    }
    if let Some(i) = line.find(['#', ';']) {
        comment.push_str(&line[i..]);
        line = trim(&line[..i]).to_string();
    }
    if has_surrounded_quote(&line, '\'') || has_surrounded_quote(&line, '"') {
        line = line[1..line.len() - 1].to_string();
    }
    Ok(line)
}

fn parse(input: &str) -> Result<Vec<Section>, String> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut sections = vec![Section {
        name: "DEFAULT".into(),
        comment: String::new(),
        keys: Vec::new(),
    }];
    let mut pending = String::new();
    let mut lines = Lines { rest: input };
    let mut line_no = 0usize;
    let mut auto = 1usize;
    while !lines.rest.is_empty() {
        let (raw, _) = lines.next_line();
        line_no += 1;
        let line = trim_left(raw);
        if line.is_empty() {
            continue;
        }
        if line.starts_with(['#', ';']) {
            pending.push_str(line);
            continue;
        }
        if let Some(body) = line.strip_prefix('[') {
            let close = body
                .rfind(']')
                .ok_or_else(|| format!("line {line_no}: unclosed section header"))?;
            let name = &body[..close];
            if name.is_empty() {
                return Err(format!("line {line_no}: empty section name"));
            }
            if let Some(c) = clean_comment(&body[close + 1..]) {
                pending.push_str(c);
            }
            sections.push(Section {
                name: name.to_string(),
                comment: trim(&pending).to_string(),
                keys: Vec::new(),
            });
            pending.clear();
            auto = 1;
            continue;
        }
        let (mut name, offset) =
            read_key_name(line).map_err(|why| format!("line {line_no}: {why}"))?;
        if name == "-" {
            name = format!("#{auto}");
            auto += 1;
        }
        let value = read_value(&line[offset..], &mut lines, &mut pending)
            .map_err(|why| format!("line {line_no}: {why}"))?;
        let comment = trim(&pending).to_string();
        pending.clear();
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if let Some(k) = section.keys.iter_mut().find(|k| k.name == name) {
            k.value = value;
            k.comment = comment;
        } else {
            section.keys.push(Key {
                name,
                value,
                comment,
            });
        }
    }
    Ok(sections)
}

/// sops' `stripCommentChar`: drops a leading run of `;`/space or `#`/space.
fn strip_comment_char(c: &str) -> &str {
    if c.starts_with(';') {
        c.trim_start_matches([';', ' '])
    } else if c.starts_with('#') {
        c.trim_start_matches(['#', ' '])
    } else {
        c
    }
}

/// An INI file as a tree (one item per section) and its `[sops]` metadata.
pub fn load(input: &[u8]) -> Result<(Branch, Option<Meta>), String> {
    let text = std::str::from_utf8(input).map_err(|_| "the INI file is not UTF-8".to_string())?;
    let sections = parse(text)?;
    let mut meta = None;
    let mut branch = Branch::new();
    for s in sections {
        if s.name == "sops" {
            if meta.is_none() {
                meta = Some(unflatten(
                    s.keys.iter().map(|k| (k.name.as_str(), k.value.as_str())),
                )?);
            }
            continue;
        }
        let mut items = Branch::new();
        if !s.comment.is_empty() {
            items.push_comment(SecretBytes::from_text(strip_comment_char(&s.comment)));
        }
        for k in s.keys {
            items.push(k.name, Value::Str(SecretBytes::new(k.value.into_bytes())));
            if !k.comment.is_empty() {
                items.push_comment(SecretBytes::from_text(strip_comment_char(&k.comment)));
            }
        }
        branch.push(s.name, Value::Map(items));
    }
    Ok((branch, meta))
}

fn comment_lines(out: &mut Vec<u8>, comment: &str, trim_plain: bool) -> Result<(), String> {
    for line in comment.split('\n') {
        let first = line
            .chars()
            .next()
            .ok_or("an INI comment has an empty line, which INI cannot print")?;
        if first == '#' || first == ';' {
            out.extend_from_slice(&line.as_bytes()[..1]);
            out.push(b' ');
            out.extend_from_slice(trim(&line[1..]).as_bytes());
        } else {
            out.extend_from_slice(b"; ");
            out.extend_from_slice(if trim_plain { trim(line) } else { line }.as_bytes());
        }
        out.push(b'\n');
    }
    Ok(())
}

fn text(v: &SecretBytes) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// Prints every document's sections as `sops decrypt --output-type ini` does.
pub fn emit(docs: &[Branch]) -> Result<Vec<u8>, String> {
    // Build go-ini's model first: sections with a comment and keys with comments.
    let mut sections: Vec<Section> = Vec::new();
    for doc in docs {
        for item in &doc.0 {
            let Item::Entry(name, value) = item else {
                continue;
            };
            if name.is_empty() {
                return Err("a section has an empty name, which INI cannot print".into());
            }
            let Value::Map(body) = value else {
                return Err(format!(
                    "the top-level value {name:?} is not a mapping; INI needs sections of keys"
                ));
            };
            let mut s = Section {
                name: name.clone(),
                comment: String::new(),
                keys: Vec::new(),
            };
            let mut items = body.0.iter().peekable();
            if let Some(Item::Comment(c)) = items.peek() {
                s.comment = text(c);
                items.next();
            }
            let mut last: Option<usize> = None;
            for it in items {
                match it {
                    Item::Comment(c) => {
                        if let Some(i) = last {
                            s.keys[i].comment = text(c);
                        }
                    }
                    Item::Entry(k, v) => {
                        if k.is_empty() {
                            return Err("a key has an empty name, which INI cannot print".into());
                        }
                        let value = match v {
                            Value::Str(b) => text(b),
                            other => val_to_string(other),
                        };
                        if let Some(i) = s.keys.iter().position(|x| &x.name == k) {
                            s.keys[i].value = value;
                            last = Some(i);
                        } else {
                            s.keys.push(Key {
                                name: k.clone(),
                                value,
                                comment: String::new(),
                            });
                            last = Some(s.keys.len() - 1);
                        }
                    }
                }
            }
            sections.push(s);
        }
    }
    let mut out = Vec::new();
    let last = sections.len().saturating_sub(1);
    for (i, s) in sections.iter().enumerate() {
        if !s.comment.is_empty() {
            comment_lines(&mut out, &s.comment, false)?;
        }
        if i > 0 || !s.name.eq_ignore_ascii_case("DEFAULT") {
            out.push(b'[');
            out.extend_from_slice(s.name.as_bytes());
            out.extend_from_slice(b"]\n");
        } else if s.keys.is_empty() {
            continue;
        }
        let quoted = |k: &str| {
            if k.contains(['"', '=', ':']) {
                format!("`{k}`")
            } else if k.contains('`') {
                format!("\"\"\"{k}\"\"\"")
            } else {
                k.to_string()
            }
        };
        let align = s
            .keys
            .iter()
            .map(|k| quoted(&k.name).len())
            .max()
            .unwrap_or(0);
        for k in &s.keys {
            if !k.comment.is_empty() {
                comment_lines(&mut out, &k.comment, true)?;
            }
            let name = quoted(&k.name);
            out.extend_from_slice(name.as_bytes());
            out.extend(std::iter::repeat_n(b' ', align - name.len()));
            out.extend_from_slice(b" = ");
            let v = &k.value;
            let v = if v.contains(['\n', '`']) {
                format!("\"\"\"{v}\"\"\"")
            } else if v.contains(['#', ';']) {
                format!("`{v}`")
            } else if trim(v).len() != v.len() {
                format!("\"{v}\"")
            } else {
                v.clone()
            };
            out.extend_from_slice(v.as_bytes());
            out.push(b'\n');
        }
        if i != last {
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<(String, String)> {
        parse(input)
            .unwrap()
            .into_iter()
            .flat_map(|s| s.keys.into_iter().map(|k| (k.name, k.value)))
            .collect()
    }

    #[test]
    fn go_ini_value_rules() {
        let v = values(
            "a = http://x/#frag\nb = \"q\"\nc = 'a;b'\nd: colon\ne = \"\"\"x\"\"\" tail\nf = one \\\n  two\ng = `t;t`\n\"quoted key\" = 1\n",
        );
        let get = |k: &str| v.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str());
        assert_eq!(get("a"), Some("http://x/"));
        assert_eq!(get("b"), Some("q"));
        assert_eq!(get("c"), Some("'a"));
        assert_eq!(get("d"), Some("colon"));
        assert_eq!(get("e"), Some("x"));
        assert_eq!(get("f"), Some("one two"));
        assert_eq!(get("g"), Some("t;t"));
        assert_eq!(get("quoted key"), Some("1"));
    }

    #[test]
    fn sections_comments_and_default() {
        let (b, meta) =
            load(b"top = 1\n; c1\n[s] ; inline\nk = v # kc\n[sops]\nversion = 3\n").unwrap();
        assert!(meta.is_some());
        let names: Vec<&str> = b.entries().map(|(k, _)| k).collect();
        assert_eq!(names, ["DEFAULT", "s"]);
        let Some(Value::Map(s)) = b.get("s") else {
            panic!()
        };
        assert!(matches!(&s.0[0], Item::Comment(c) if c.as_str() == Some("c1\n; inline")));
        assert!(matches!(&s.0[2], Item::Comment(c) if c.as_str() == Some("kc")));
    }

    #[test]
    fn writer_matches_go_ini() {
        let (b, _) = load(b"[sec]\nkey = value\nlonger_key = v2\n\n[other]\na = 1\n").unwrap();
        assert_eq!(
            String::from_utf8(emit(&[b]).unwrap()).unwrap(),
            "[sec]\nkey        = value\nlonger_key = v2\n\n[other]\na = 1\n"
        );
        let (b, _) = load(b"x = \n[s]\nh = `a#b`\nsp = \" lead\"\n").unwrap();
        assert_eq!(
            String::from_utf8(emit(&[b]).unwrap()).unwrap(),
            "x = \n\n[s]\nh  = `a#b`\nsp = \" lead\"\n"
        );
    }

    #[test]
    fn errors_name_the_line_not_the_content() {
        let e = parse("[ok]\nsecretvalue\n").err().unwrap();
        assert!(e.contains("line 2") && !e.contains("secretvalue"), "{e}");
        assert!(parse("[unclosed\n").is_err());
        assert!(parse("[]\n").is_err());
    }
}
