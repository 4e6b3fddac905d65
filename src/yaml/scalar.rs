//! Scanning YAML scalars and node properties: plain (with line folding),
//! single- and double-quoted (with escapes), literal and folded block
//! scalars (indentation indicators, chomping), anchors, aliases and tags.
//! These are `Parser` methods; the cursor rules live in `yaml::parse`.

use super::Style;
use super::parse::{PResult, Parser};

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

pub(super) fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl Parser<'_> {
    fn blank_or_eol_at(&self, i: usize) -> bool {
        match self.b.get(i) {
            None => true,
            Some(&c) => is_blank(c) || c == b'\n' || c == b'\r',
        }
    }

    /// True when a plain scalar may start here (not an indicator).
    pub(super) fn plain_can_start(&self, flow: bool) -> bool {
        let Some(c) = self.peek() else { return false };
        match c {
            b'-' | b'?' | b':' => {
                let next = self.b.get(self.pos + 1).copied();
                match next {
                    None => false,
                    Some(n) => {
                        !(is_blank(n) || n == b'\n' || n == b'\r' || (flow && is_flow_indicator(n)))
                    }
                }
            }
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`' => false,
            b' ' | b'\t' | b'\n' | b'\r' => false,
            _ => true,
        }
    }

    /// Where a plain scalar on the current line stops, without moving.
    /// Returns the end of its last non-blank character and why it stopped.
    pub(super) fn plain_line_end(&self, from: usize, flow: bool) -> (usize, u8) {
        let mut i = from;
        let mut end = from;
        while let Some(&c) = self.b.get(i) {
            if c == b'\n' || c == b'\r' {
                return (end, b'\n');
            }
            if c == b':' {
                let n = self.b.get(i + 1).copied();
                let stop = match n {
                    None => true,
                    Some(n) => {
                        is_blank(n) || n == b'\n' || n == b'\r' || (flow && is_flow_indicator(n))
                    }
                };
                if stop {
                    return (end, b':');
                }
            }
            if c == b'#' && i > from && is_blank(self.b[i - 1]) {
                return (end, b'#');
            }
            if flow && is_flow_indicator(c) {
                return (end, c);
            }
            i += 1;
            if !is_blank(c) {
                end = i;
            }
        }
        (end, b'\n')
    }

    /// A plain scalar, folding continuation lines indented more than `indent`.
    pub(super) fn plain(&mut self, indent: isize, flow: bool) -> PResult<String> {
        let mut out = String::new();
        let mut breaks = 0usize;
        loop {
            let start = self.pos;
            let (end, why) = self.plain_line_end(start, flow);
            let seg = &self.src[start..end];
            if breaks == 1 {
                out.push(' ');
            } else if breaks > 1 {
                for _ in 1..breaks {
                    out.push('\n');
                }
            }
            out.push_str(seg);
            self.pos = end;
            if why != b'\n' {
                break;
            }
            // Look for a continuation line.
            let save = self.save();
            self.skip_blanks();
            if self.eof() || !self.at_break() {
                self.restore(save);
                break;
            }
            let mut n = 0;
            let mut ok = false;
            while self.at_break() {
                self.newline();
                n += 1;
                while self.peek() == Some(b' ') {
                    self.pos += 1;
                }
                let line_only_blank = {
                    let mut j = self.pos;
                    while j < self.b.len() && is_blank(self.b[j]) {
                        j += 1;
                    }
                    j >= self.b.len() || self.b[j] == b'\n' || self.b[j] == b'\r'
                };
                if line_only_blank {
                    self.skip_blanks();
                    if self.eof() {
                        break;
                    }
                    continue;
                }
                let col = self.col() as isize;
                self.skip_blanks();
                let c = self.peek();
                ok = !self.eof()
                    && (flow || col > indent)
                    && c != Some(b'#')
                    && !self.at_document_marker()
                    && !(flow && matches!(c, Some(b']' | b'}' | b',')));
                break;
            }
            if !ok {
                self.restore(save);
                break;
            }
            breaks = n;
        }
        Ok(out)
    }

    /// Line folding inside quoted scalars: at a line break, consume it and
    /// the indentation of following lines, and append what the folding yields.
    fn fold_quoted(&mut self, out: &mut String) -> PResult<()> {
        let mut breaks = 0;
        while self.at_break() {
            self.newline();
            breaks += 1;
            self.skip_blanks();
        }
        if self.eof() {
            return Err(self.error("unterminated quoted scalar"));
        }
        if self.at_document_marker() {
            return Err(self.error("document marker inside a quoted scalar"));
        }
        if breaks == 1 {
            out.push(' ');
        } else {
            for _ in 1..breaks {
                out.push('\n');
            }
        }
        Ok(())
    }

    /// U+2028/U+2029, which go-yaml (like libyaml) treats as line breaks.
    fn at_unicode_break(&self) -> bool {
        self.b[self.pos..].starts_with("\u{2028}".as_bytes())
            || self.b[self.pos..].starts_with("\u{2029}".as_bytes())
    }

    /// Inside quotes, such a break is kept and the next line's indentation dropped.
    fn unicode_break(&mut self, out: &mut String) {
        out.push_str(&self.src[self.pos..self.pos + 3]);
        self.pos += 3;
        self.skip_blanks();
    }

    pub(super) fn single_quoted(&mut self) -> PResult<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated single-quoted scalar")),
                Some(b'\'') => {
                    if self.b.get(self.pos + 1) == Some(&b'\'') {
                        out.push('\'');
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Ok(out);
                    }
                }
                Some(b'\n' | b'\r') => {
                    let keep = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(keep);
                    self.fold_quoted(&mut out)?;
                }
                _ if self.at_unicode_break() => {
                    let keep = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(keep);
                    self.unicode_break(&mut out);
                }
                Some(_) => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if c == b'\'' || c == b'\n' || c == b'\r' || self.at_unicode_break() {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.src[start..self.pos]);
                }
            }
        }
    }

    fn hex_escape(&mut self, n: usize) -> PResult<char> {
        let digits = self
            .src
            .get(self.pos..self.pos + n)
            .ok_or_else(|| self.error("truncated escape in double-quoted scalar"))?;
        let v = u32::from_str_radix(digits, 16)
            .map_err(|_| self.error("invalid escape in double-quoted scalar"))?;
        self.pos += n;
        char::from_u32(v).ok_or_else(|| self.error("invalid Unicode escape"))
    }

    pub(super) fn double_quoted(&mut self) -> PResult<String> {
        self.pos += 1;
        let mut out = String::new();
        // Length of `out` that trailing-blank stripping at a line break must keep.
        let mut keep = 0;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated double-quoted scalar")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let Some(e) = self.b.get(self.pos + 1).copied() else {
                        return Err(self.error("unterminated double-quoted scalar"));
                    };
                    self.pos += 2;
                    let c = match e {
                        b'0' => '\0',
                        b'a' => '\u{7}',
                        b'b' => '\u{8}',
                        b't' | b'\t' => '\t',
                        b'n' => '\n',
                        b'v' => '\u{b}',
                        b'f' => '\u{c}',
                        b'r' => '\r',
                        b'e' => '\u{1b}',
                        b' ' => ' ',
                        b'"' => '"',
                        b'/' => '/',
                        b'\\' => '\\',
                        b'N' => '\u{85}',
                        b'_' => '\u{a0}',
                        b'L' => '\u{2028}',
                        b'P' => '\u{2029}',
                        b'x' => self.hex_escape(2)?,
                        b'u' => self.hex_escape(4)?,
                        b'U' => self.hex_escape(8)?,
                        b'\n' | b'\r' => {
                            // Escaped line break: join without a space.
                            self.pos -= 1;
                            self.newline();
                            self.skip_blanks();
                            while self.at_break() {
                                self.newline();
                                out.push('\n');
                                self.skip_blanks();
                            }
                            keep = out.len();
                            continue;
                        }
                        _ => return Err(self.error("invalid escape in double-quoted scalar")),
                    };
                    out.push(c);
                    keep = out.len();
                }
                Some(b'\n' | b'\r') => {
                    out.truncate(keep.max(out.trim_end_matches([' ', '\t']).len()));
                    self.fold_quoted(&mut out)?;
                    keep = out.len();
                }
                _ if self.at_unicode_break() => {
                    out.truncate(keep.max(out.trim_end_matches([' ', '\t']).len()));
                    self.unicode_break(&mut out);
                    keep = out.len();
                }
                Some(_) => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if c == b'"'
                            || c == b'\\'
                            || c == b'\n'
                            || c == b'\r'
                            || self.at_unicode_break()
                        {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.src[start..self.pos]);
                    let trimmed = out.trim_end_matches([' ', '\t']).len();
                    keep = keep.max(trimmed);
                }
            }
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar; `indent` is the parent's indentation.
    pub(super) fn block_scalar(&mut self, indent: isize) -> PResult<(String, Style)> {
        let style = if self.peek() == Some(b'|') {
            Style::Literal
        } else {
            Style::Folded
        };
        self.pos += 1;
        let mut chomp = 0i8; // -1 strip, 0 clip, 1 keep
        let mut explicit: Option<usize> = None;
        for _ in 0..2 {
            match self.peek() {
                Some(b'+') if chomp == 0 => {
                    chomp = 1;
                    self.pos += 1;
                }
                Some(b'-') if chomp == 0 => {
                    chomp = -1;
                    self.pos += 1;
                }
                Some(c @ b'1'..=b'9') if explicit.is_none() => {
                    explicit = Some(usize::from(c - b'0'));
                    self.pos += 1;
                }
                _ => break,
            }
        }
        self.skip_blanks();
        if self.peek() == Some(b'#') {
            self.skip_comment_text();
        }
        if !self.eof() && !self.at_break() {
            return Err(self.error("unexpected text after a block scalar indicator"));
        }
        let base = indent.max(0) as usize;
        let min = (indent + 1).max(1) as usize;
        // Leading empty lines and the content indentation.
        let mut trailing = String::new();
        let content_indent = explicit.map(|m| base + m);
        let mut max_seen = 0usize;
        loop {
            if self.eof() {
                break;
            }
            if self.at_break() {
                self.newline();
            } else {
                break;
            }
            let start = self.pos;
            while self.peek() == Some(b' ') && content_indent.is_none_or(|ci| self.pos - start < ci)
            {
                self.pos += 1;
            }
            max_seen = max_seen.max(self.pos - start);
            if self.at_break() || self.eof() {
                trailing.push('\n');
                continue;
            }
            break;
        }
        let indent_n = content_indent.unwrap_or_else(|| max_seen.max(min));
        let mut out = String::new();
        let mut leading_break = String::new();
        let mut leading_blank = false;
        let mut hit_eof = false;
        while !self.eof() && self.col() == indent_n && !self.at_break() {
            if self.col() == 0 && self.at_document_marker() {
                break;
            }
            let trailing_blank = matches!(self.peek(), Some(b' ' | b'\t'));
            if style == Style::Folded && leading_break == "\n" && !leading_blank && !trailing_blank
            {
                if trailing.is_empty() {
                    out.push(' ');
                }
                leading_break.clear();
            } else {
                out.push_str(&leading_break);
                leading_break.clear();
            }
            out.push_str(&trailing);
            trailing.clear();
            leading_blank = trailing_blank;
            let start = self.pos;
            while !self.eof() && !self.at_break() {
                self.pos += 1;
            }
            out.push_str(&self.src[start..self.pos]);
            if self.eof() {
                hit_eof = true;
                break;
            }
            self.newline();
            leading_break.push('\n');
            // Following empty lines.
            loop {
                let s = self.pos;
                while self.peek() == Some(b' ') && self.pos - s < indent_n {
                    self.pos += 1;
                }
                if self.at_break() {
                    self.newline();
                    trailing.push('\n');
                    continue;
                }
                if self.eof() {
                    break;
                }
                if self.col() < indent_n {
                    // Possibly a blank line with only spaces shorter than the indent.
                    let mut j = self.pos;
                    while j < self.b.len() && self.b[j] == b' ' {
                        j += 1;
                    }
                    if j < self.b.len() && (self.b[j] == b'\n' || self.b[j] == b'\r') {
                        self.pos = j;
                        self.newline();
                        trailing.push('\n');
                        continue;
                    }
                }
                break;
            }
        }
        if chomp != -1 {
            out.push_str(&leading_break);
        }
        if chomp == 1 {
            out.push_str(&trailing);
        }
        // Leave the cursor at the start of the line that ended the scalar (at
        // the end of input, where a header without a line break ends it, stay
        // there: the line start would be the header's own line).
        if !hit_eof && !self.eof() {
            self.pos = self.line_start;
        }
        Ok((out, style))
    }

    /// An anchor or alias name after `&` or `*`.
    pub(super) fn name(&mut self) -> PResult<String> {
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_blank(c) || c == b'\n' || c == b'\r' || is_flow_indicator(c) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("empty anchor or alias name"));
        }
        let name = &self.src[start..self.pos];
        if name.chars().any(char::is_control) {
            return Err(self.error("a control character in an anchor or alias name"));
        }
        Ok(name.to_string())
    }

    /// A tag after `!` (`!`, `!!str`, `!local`, `!<verbatim>`), as written.
    pub(super) fn tag(&mut self) -> PResult<String> {
        let start = self.pos;
        if self.b.get(self.pos + 1) == Some(&b'<') {
            while let Some(c) = self.peek() {
                if is_blank(c) || c == b'\n' || c == b'\r' {
                    break;
                }
                self.pos += 1;
                if c == b'>' {
                    return self.checked_tag(start);
                }
            }
            return Err(self.error("unterminated verbatim tag"));
        }
        self.pos += 1;
        while let Some(c) = self.peek() {
            if is_blank(c) || c == b'\n' || c == b'\r' || is_flow_indicator(c) {
                break;
            }
            self.pos += 1;
        }
        self.checked_tag(start)
    }

    /// The tag text from `start`, which may not hold control characters.
    fn checked_tag(&self, start: usize) -> PResult<String> {
        let tag = &self.src[start..self.pos];
        if tag.chars().any(char::is_control) {
            return Err(self.error("a control character in a tag"));
        }
        Ok(tag.to_string())
    }

    pub(super) fn at_value_indicator(&self) -> bool {
        self.peek() == Some(b':') && self.blank_or_eol_at(self.pos + 1)
    }

    pub(super) fn at_seq_indicator(&self) -> bool {
        self.peek() == Some(b'-') && self.blank_or_eol_at(self.pos + 1)
    }

    pub(super) fn at_explicit_key(&self) -> bool {
        self.peek() == Some(b'?') && self.blank_or_eol_at(self.pos + 1)
    }
}
