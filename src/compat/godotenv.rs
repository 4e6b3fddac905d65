//! The dotenv dialect KSOPS reads `envs` files with (joho/godotenv v1.5.1).
//!
//! KSOPS hands the decrypted text of every `envs` file, whatever its format,
//! to godotenv. To give the same Secrets we follow its rules: `#` comment
//! lines, an optional `export `, keys ending at the first `=` or `:` (so flat
//! `KEY: value` YAML works too), unquoted values cut at the last ` #` and
//! trimmed, double-quoted values with `\n`/`\r` escapes, single-quoted values
//! taken literally, and `$NAME`/`${NAME}` (NAME in `[A-Z0-9_]`) replaced by
//! the value of a key read earlier in the same file — never from the process
//! environment. Where godotenv can only fail or produce an unusable Secret we
//! do better, and README.md says so: keys may contain `-` (godotenv refuses
//! them), empty keys are an error instead of a key named `""`, and errors
//! give a line number instead of quoting the rest of the (secret) file.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::sops::tree::SecretBytes;

/// The pairs of a file, in file order (a repeated key appears twice; the later wins).
pub struct Parsed {
    pub pairs: Vec<(String, SecretBytes)>,
    /// Variables referenced by `$NAME` that no earlier key defines (they
    /// expand to nothing; usually a password that happens to contain `$`).
    pub undefined: Vec<(usize, String)>,
}

/// godotenv's `isSpace` (note: not `\n`).
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

static ESCAPE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\\.").ok());
static UNESCAPE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\\([^$])").ok());
static VARIABLE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?").ok());

/// Double-quoted escapes: `\n` and `\r` become line breaks, any other `\X` becomes `X`
/// (except `\$`, which variable expansion turns into a literal `$`).
fn expand_escapes(s: &str) -> String {
    let (Some(esc), Some(unesc)) = (ESCAPE.as_ref(), UNESCAPE.as_ref()) else {
        return s.to_string();
    };
    let once = esc.replace_all(s, |c: &Captures| match &c[0] {
        "\\n" => "\n".to_string(),
        "\\r" => "\r".to_string(),
        other => other.to_string(),
    });
    unesc.replace_all(&once, "$1").into_owned()
}

fn expand_variables(
    s: &str,
    vars: &HashMap<String, SecretBytes>,
    line: usize,
    undefined: &mut Vec<(usize, String)>,
) -> String {
    let Some(re) = VARIABLE.as_ref() else {
        return s.to_string();
    };
    re.replace_all(s, |c: &Captures| {
        let whole = &c[0];
        if c.get(1).is_some() {
            return whole[1..].to_string();
        }
        match c.get(4) {
            Some(name) => match vars.get(name.as_str()) {
                Some(v) => v.as_str().unwrap_or_default().to_string(),
                None => {
                    undefined.push((line, name.as_str().to_string()));
                    String::new()
                }
            },
            None => whole.to_string(),
        }
    })
    .into_owned()
}

/// Parses decrypted text. Errors name a line and a reason, never the text.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("the file is not valid UTF-8 (at byte {})", e.valid_up_to()))?;
    let text = text.replace("\r\n", "\n");
    let line_of = |rest: &str| text[..text.len() - rest.len()].matches('\n').count() + 1;
    let mut vars: HashMap<String, SecretBytes> = HashMap::new();
    let mut out = Parsed {
        pairs: Vec::new(),
        undefined: Vec::new(),
    };
    let mut rest: &str = &text;
    loop {
        // Start of the next statement: skip white space (line breaks too) and comments.
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if rest.starts_with('#') {
            match rest.find('\n') {
                Some(i) => {
                    rest = &rest[i..];
                    continue;
                }
                None => break,
            }
        }
        let line = line_of(rest);
        // The key, after an optional `export `.
        let mut src = rest.trim_start_matches(is_space);
        if let Some(after) = src.strip_prefix("export")
            && after.starts_with(is_space)
        {
            src = after.trim_start_matches(is_space);
        }
        let mut key_end = None;
        for (i, c) in src.char_indices() {
            match c {
                '=' | ':' => {
                    key_end = Some(i);
                    break;
                }
                c if is_space(c) || c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') => {}
                '\n' => {
                    return Err(format!(
                        "line {line}: the line has no '=' (expected KEY=VALUE)"
                    ));
                }
                c if c.is_ascii_graphic() => {
                    return Err(format!(
                        "line {line}: unexpected character {c:?} in the variable name"
                    ));
                }
                _ => {
                    return Err(format!(
                        "line {line}: unexpected character in the variable name (only letters, digits, '_', '.' and '-' are allowed)"
                    ));
                }
            }
        }
        let Some(key_end) = key_end else {
            return Err(format!(
                "line {line}: the last line has no '=' (godotenv would make it a key named \"\")"
            ));
        };
        let key = src[..key_end].trim_end_matches(char::is_whitespace);
        if key.is_empty() {
            return Err(format!(
                "line {line}: the key before the separator is empty"
            ));
        }
        let src = src[key_end + 1..].trim_start_matches(is_space);
        let (value, after) = value(src, line, &vars, &mut out.undefined)?;
        let v = SecretBytes::from_text(&value);
        vars.insert(key.to_string(), v.clone());
        out.pairs.push((key.to_string(), v));
        rest = after;
    }
    Ok(out)
}

/// One value and the text after it.
fn value<'a>(
    src: &'a str,
    line: usize,
    vars: &HashMap<String, SecretBytes>,
    undefined: &mut Vec<(usize, String)>,
) -> Result<(String, &'a str), String> {
    let quote = match src.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let end = src.find(['\n', '\r']).unwrap_or(src.len());
            let chars: Vec<char> = src[..end].chars().collect();
            let mut stop = chars.len();
            for i in (1..chars.len()).rev() {
                if chars[i] == '#' && is_space(chars[i - 1]) {
                    stop = i;
                    break;
                }
            }
            let raw: String = chars[..stop].iter().collect();
            let trimmed = raw.trim_matches(is_space);
            return Ok((
                expand_variables(trimmed, vars, line, undefined),
                &src[end..],
            ));
        }
    };
    let bytes = src.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] != quote as u8 || bytes[i - 1] == b'\\' {
            continue;
        }
        let inner = src[..i].trim_start_matches(quote).trim_end_matches(quote);
        let v = if quote == '"' {
            expand_variables(&expand_escapes(inner), vars, line, undefined)
        } else {
            inner.to_string()
        };
        return Ok((v, &src[i + 1..]));
    }
    Err(format!("line {line}: the quoted value is not terminated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse(s.as_bytes())
            .unwrap()
            .pairs
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
            .collect()
    }

    fn one(s: &str) -> String {
        pairs(s).pop().unwrap().1
    }

    #[test]
    fn godotenv_rules() {
        let got = pairs(
            "# leading comment\nPLAIN=value\nSPACED = spaced value  \nexport EXPORTED=yes\nDQ=\"double quoted\"\nSQ='single quoted'\nESC=\"line1\\nline2\"\nRAWESC=line1\\nline2\nINLINE=value # trailing comment\nHASHNOSPACE=value#notacomment\nEQ=a=b=c\nREF=${PLAIN}-suffix\nDOLLAR=$PLAIN\nEMPTY=\n  INDENTED=ok\n",
        );
        let want = [
            ("PLAIN", "value"),
            ("SPACED", "spaced value"),
            ("EXPORTED", "yes"),
            ("DQ", "double quoted"),
            ("SQ", "single quoted"),
            ("ESC", "line1\nline2"),
            ("RAWESC", "line1\\nline2"),
            ("INLINE", "value"),
            ("HASHNOSPACE", "value#notacomment"),
            ("EQ", "a=b=c"),
            ("REF", "value-suffix"),
            ("DOLLAR", "value"),
            ("EMPTY", ""),
            ("INDENTED", "ok"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn values_edge_cases() {
        assert_eq!(one("A=a #b #c\n"), "a #b");
        assert_eq!(one("A: yaml style\n"), "yaml style");
        assert_eq!(one("A=\"esc \\\" \\t \\$X\"\n"), "esc \" t $X");
        assert_eq!(one("A='no $X \\n'\n"), "no $X \\n");
        assert_eq!(one("A=pa$$word\n"), "pa$$word");
        assert_eq!(one("A=pa\\$1x\n"), "pa$1x");
        assert_eq!(one("A=\"\"\n"), "");
        assert_eq!(one("A=crlf\r\nB=x"), "x");
        assert_eq!(one("tls-crt=abc\n"), "abc");
        assert_eq!(pairs("A=1\nA=2\n").len(), 2);
        let p = parse(b"A=Pa55$W0RD!\n").unwrap();
        assert_eq!(p.pairs[0].1.as_str(), Some("Pa55!"));
        assert_eq!(p.undefined, [(1, "W0RD".to_string())]);
        assert_eq!(one("A=x\nB=$(A)\n"), "x)");
        assert_eq!(one("K=\"v\"extra=1\n"), "1");
    }

    #[test]
    fn refusals_name_the_line_not_the_text() {
        for (input, want) in [
            ("A=1\nsecret-without-equals\nB=2\n", "line 2"),
            ("A=1\nLAST", "line 2"),
            ("A=\"open\nB=2\n", "not terminated"),
            ("{\"json\": 1}\n", "unexpected character '{'"),
            ("=v\n", "empty"),
            ("K=\"x\" trailing\n", "no '='"),
        ] {
            let e = parse(input.as_bytes()).err().unwrap();
            assert!(e.contains(want), "{input:?}: {e}");
            assert!(!e.contains("secret") && !e.contains("open"), "{e}");
        }
        assert!(parse(b"A=\xff\n").is_err());
    }
}
