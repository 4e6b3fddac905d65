//! How a scalar is written: libyaml's scalar analysis (which styles a text
//! allows), go-yaml's style choice, and the writers for double-quoted,
//! single-quoted and literal scalars.

use crate::yaml::Style;

// ---- scalar analysis (libyaml's yaml_emitter_analyze_scalar) -------------

pub(super) struct Analysis {
    block_plain: bool,
    single: bool,
    block: bool,
}

/// go-yaml's `is_printable`: no C0/C1 controls but `\n`, no BOM, no
/// U+FFFE/U+FFFF, and nothing outside the BMP.
pub(super) fn printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

pub(super) fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let mut block_ind = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut lead_space, mut lead_break, mut trail_space, mut trail_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = matches!(
            next,
            None | Some(' ' | '\t' | '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
        );
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_ind = true,
                '?' | ':' | '-' if followed_by_ws => block_ind = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_ind = true,
                '#' if preceded_by_ws => block_ind = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                lead_space = true;
            }
            if i + 1 == chars.len() {
                trail_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                lead_break = true;
            }
            if i + 1 == chars.len() {
                trail_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(
            c,
            ' ' | '\t' | '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
    }
    let mut a = Analysis {
        block_plain: true,
        single: true,
        block: true,
    };
    if lead_space || lead_break || trail_space || trail_break {
        a.block_plain = false;
    }
    if trail_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || tabs || special {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block = false;
    }
    if line_breaks || block_ind {
        a.block_plain = false;
    }
    a
}

/// The style the emitter really uses (libyaml's `select_scalar_style`).
pub(super) fn select_style(text: &str, requested: Style, simple_key: bool, tagged: bool) -> Style {
    let a = analyze(text);
    let mut style = match requested {
        Style::Folded => Style::Literal,
        s => s,
    };
    if style == Style::Plain && (!a.block_plain || (text.is_empty() && (simple_key || tagged))) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

// ---- writers ------------------------------------------------------------

pub(super) fn write_double(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('"');
    let bom_first = s.starts_with('\u{feff}');
    for c in s.chars() {
        if !printable(c) || bom_first || is_break(c) || c == '"' || c == '\\' {
            out.push('\\');
            let v = c as u32;
            match c {
                '\0' => out.push('0'),
                '\u{7}' => out.push('a'),
                '\u{8}' => out.push('b'),
                '\t' => out.push('t'),
                '\n' => out.push('n'),
                '\u{b}' => out.push('v'),
                '\u{c}' => out.push('f'),
                '\r' => out.push('r'),
                '\u{1b}' => out.push('e'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '\u{85}' => out.push('N'),
                '\u{a0}' => out.push('_'),
                '\u{2028}' => out.push('L'),
                '\u{2029}' => out.push('P'),
                _ => {
                    let (prefix, width) = if v <= 0xFF {
                        ('x', 2)
                    } else if v <= 0xFFFF {
                        ('u', 4)
                    } else {
                        ('U', 8)
                    };
                    out.push(prefix);
                    for k in (0..width).rev() {
                        out.push(char::from(HEX[((v >> (4 * k)) & 15) as usize]));
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

pub(super) fn write_single(out: &mut String, s: &str, indent: usize) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            // Only LS/PS reach here (other breaks force double quotes); go-yaml
            // writes the character and then the indentation.
            c if is_break(c) => {
                out.push(c);
                out.extend(std::iter::repeat_n(' ', indent));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// `|` with indentation and chomping hints, then the lines at `indent`.
pub(super) fn write_literal(out: &mut String, s: &str, indent: usize, best: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push_str(&best.to_string());
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s.len() == 1 || s[..s.len() - 1].ends_with('\n') {
        out.push('+');
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
}
