//! The YAML tree builder: documents, block mappings and sequences (compact
//! forms included), flow collections, properties, and comment placement.
//!
//! A hand-written recursive-descent parser over bytes, with the cursor kept
//! as (position, line, line start). Comments are collected as they are
//! skipped, with their column, and attached the way go-yaml v3 (and so sops)
//! sees them: comments before an entry and on its key line belong to that
//! entry; comments after the last entry of a block that are indented at
//! least as far as the block are its foot; others move up to the parent.

mod flow;

use super::{Document, Entry, Error, MAX_DEPTH, MAX_NODES, Node, SeqItem, Style, Value};

pub(super) type PResult<T> = Result<T, Error>;

/// A saved cursor.
#[derive(Clone, Copy)]
pub(super) struct Save {
    pos: usize,
    line: usize,
    line_start: usize,
}

pub struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
    pub(super) line_start: usize,
    depth: usize,
    /// Mapping entries and sequence items read so far (bounded by MAX_NODES).
    nodes: usize,
    /// Comments read but not yet attached: (column, text after '#').
    pending: Vec<(usize, String)>,
    /// A comment that ended the line of the node just parsed.
    trailing: Option<String>,
}

fn empty_at(line: usize) -> Node {
    let mut n = Node::scalar("", Style::Plain);
    n.line = line;
    n
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Parser<'a> {
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            depth: 0,
            nodes: 0,
            pending: Vec::new(),
            trailing: None,
        }
    }

    // ---- cursor -------------------------------------------------------

    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub(super) fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub(super) fn at_break(&self) -> bool {
        matches!(self.peek(), Some(b'\n' | b'\r'))
    }

    /// Consumes one line break (`\n`, `\r\n` or `\r`).
    pub(super) fn newline(&mut self) {
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        self.line += 1;
        self.line_start = self.pos;
    }

    pub(super) fn col(&self) -> usize {
        self.pos - self.line_start
    }

    pub(super) fn skip_blanks(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    pub(super) fn save(&self) -> Save {
        Save {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    pub(super) fn restore(&mut self, s: Save) {
        self.pos = s.pos;
        self.line = s.line;
        self.line_start = s.line_start;
    }

    pub(super) fn error(&self, message: &str) -> Error {
        Error {
            line: self.line,
            message: message.to_string(),
        }
    }

    pub(super) fn at_document_marker(&self) -> bool {
        self.col() == 0
            && (self.b[self.pos..].starts_with(b"---") || self.b[self.pos..].starts_with(b"..."))
            && matches!(
                self.b.get(self.pos + 3),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            )
    }

    /// Consumes `#…` to the end of the line and returns the text after `#`.
    pub(super) fn skip_comment_text(&mut self) -> String {
        self.pos += 1;
        let start = self.pos;
        while !self.eof() && !self.at_break() {
            self.pos += 1;
        }
        self.src[start..self.pos].to_string()
    }

    /// Skips blanks, line breaks and comment lines (collecting the comments).
    /// Returns whether a line break was crossed.
    fn skip_to_content(&mut self) -> PResult<bool> {
        let mut crossed = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'#') => {
                    let col = self.col();
                    let text = self.skip_comment_text();
                    self.pending.push((col, text));
                }
                Some(b'\n' | b'\r') => {
                    self.newline();
                    crossed = true;
                    if self.peek() == Some(b'\t') {
                        // A tab may separate, but never indent, content.
                        let save = self.save();
                        self.skip_blanks();
                        if !self.eof() && !self.at_break() && self.peek() != Some(b'#') {
                            return Err(self.error("tab character used for indentation"));
                        }
                        self.restore(save);
                    }
                }
                _ => return Ok(crossed),
            }
        }
    }

    fn take_pending(&mut self) -> Vec<String> {
        self.pending.drain(..).map(|(_, t)| t).collect()
    }

    /// Pending comments indented at least `col`, from the front: a block's foot.
    fn take_foot(&mut self, col: usize) -> Vec<String> {
        let n = self.pending.iter().take_while(|(c, _)| *c >= col).count();
        self.pending.drain(..n).map(|(_, t)| t).collect()
    }

    /// Reads a comment ending the current line, if any, into `trailing`.
    fn line_end(&mut self) -> PResult<()> {
        self.skip_blanks();
        if self.peek() == Some(b'#') {
            let t = self.skip_comment_text();
            self.trailing = Some(t);
        }
        if !self.eof() && !self.at_break() {
            return Err(self.error(
                "unexpected text after a value (a `: ` inside a plain value needs quotes)",
            ));
        }
        Ok(())
    }

    /// Counts one more entry or item; memory stays bounded whatever the input.
    fn grow(&mut self) -> PResult<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error(&format!(
                "more than {MAX_NODES} values (a SOPS file this large is not supported)"
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    // ---- documents ----------------------------------------------------

    pub fn stream(mut self) -> PResult<Vec<Document>> {
        let mut docs: Vec<Document> = Vec::new();
        loop {
            self.skip_to_content()?;
            if self.eof() {
                if !self.pending.is_empty() {
                    let rest = self.take_pending();
                    match docs.last_mut() {
                        Some(d) => d.foot.extend(rest),
                        None => docs.push(Document {
                            root: None,
                            foot: rest,
                        }),
                    }
                }
                return Ok(docs);
            }
            if self.col() == 0 && self.peek() == Some(b'%') {
                while !self.eof() && !self.at_break() {
                    self.pos += 1;
                }
                continue;
            }
            if self.at_document_marker() && self.b[self.pos] == b'.' {
                self.pos += 3;
                self.line_end()?;
                self.trailing = None;
                continue;
            }
            let explicit = self.at_document_marker();
            if explicit {
                self.pos += 3;
            }
            let root = self.node(-1, false)?;
            if let Some(t) = self.trailing.take() {
                self.pending.push((0, t));
            }
            self.skip_to_content()?;
            let foot = self.take_pending();
            if !self.eof() && !self.at_document_marker() {
                return Err(
                    self.error("unexpected content after the end of a document (bad indentation?)")
                );
            }
            if root.is_none() && foot.is_empty() && !explicit {
                continue;
            }
            docs.push(Document { root, foot });
        }
    }

    // ---- block nodes --------------------------------------------------

    /// The node following a mapping key, a sequence dash, or a document start.
    /// `indent` is the parent block's column (-1 at document level); with
    /// `map_value`, a sequence at exactly that column is the value (compact form).
    fn node(&mut self, indent: isize, map_value: bool) -> PResult<Option<Node>> {
        self.enter()?;
        let r = self.node_inner(indent, map_value);
        self.depth -= 1;
        r
    }

    fn node_inner(&mut self, indent: isize, map_value: bool) -> PResult<Option<Node>> {
        let crossed = self.skip_to_content()?;
        if self.eof() || (crossed && self.at_document_marker()) {
            return Ok(None);
        }
        let col = self.col() as isize;
        if crossed && col <= indent && !(map_value && col == indent && self.at_seq_indicator()) {
            return Ok(None);
        }
        let line = self.line;
        let props_col = self.col();
        let (anchor, tag) = self.properties(false)?;
        if (anchor.is_some() || tag.is_some())
            && (self.eof() || self.at_break() || self.peek() == Some(b'#'))
        {
            // Properties alone on their line: they belong to the node below.
            let inner = self.node(indent, map_value)?;
            let mut n = inner.unwrap_or_else(|| empty_at(line));
            if anchor.is_some() {
                n.anchor = anchor;
            }
            if tag.is_some() {
                n.tag = tag;
            }
            return Ok(Some(n));
        }
        let c = self.col();
        if !self.at_seq_indicator() && !self.at_explicit_key() && self.implicit_key_ahead() {
            // Properties on the key's line belong to the key; the mapping starts where they do.
            return Ok(Some(self.block_map(props_col, anchor, tag, line)?));
        }
        let mut node = match self.peek() {
            Some(b'-') if self.at_seq_indicator() => {
                return Ok(Some(Self::with_props(
                    self.block_seq(c, line)?,
                    anchor,
                    tag,
                )));
            }
            Some(b'?') if self.at_explicit_key() => {
                return Ok(Some(Self::with_props(
                    self.block_map(c, None, None, line)?,
                    anchor,
                    tag,
                )));
            }
            Some(b'|' | b'>') => {
                let (text, style) = self.block_scalar(indent)?;
                let mut n = Node::scalar(text, style);
                n.anchor = anchor;
                n.tag = tag;
                n.line = line;
                return Ok(Some(n));
            }
            _ => self.inline_node(indent)?,
        };
        node.anchor = anchor.or(node.anchor);
        node.tag = tag.or(node.tag);
        node.line = line;
        self.line_end()?;
        Ok(Some(node))
    }

    /// `&anchor` and `!tag` before a node, in either order; each is followed by
    /// blanks (or, inside a flow collection, any white space and comments).
    fn properties(&mut self, flow: bool) -> PResult<(Option<String>, Option<String>)> {
        let (mut anchor, mut tag) = (None, None);
        loop {
            match self.peek() {
                Some(b'&') => anchor = Some(self.name()?),
                Some(b'!') => tag = Some(self.tag()?),
                _ => return Ok((anchor, tag)),
            }
            if flow {
                self.flow_ws()?;
            } else {
                self.skip_blanks();
            }
        }
    }

    fn with_props(mut n: Node, anchor: Option<String>, tag: Option<String>) -> Node {
        if anchor.is_some() {
            n.anchor = anchor;
        }
        if tag.is_some() {
            n.tag = tag;
        }
        n
    }

    /// A scalar, alias or flow collection starting on this line.
    fn inline_node(&mut self, indent: isize) -> PResult<Node> {
        let line = self.line;
        let mut n = match self.peek() {
            Some(b'*') => Node {
                value: Value::Alias(self.name()?),
                tag: None,
                anchor: None,
                line,
            },
            Some(b'[' | b'{') => self.flow_collection()?,
            Some(b'"') => Node::scalar(self.double_quoted()?, Style::Double),
            Some(b'\'') => Node::scalar(self.single_quoted()?, Style::Single),
            _ if self.plain_can_start(false) => {
                Node::scalar(self.plain(indent, false)?, Style::Plain)
            }
            _ => return Err(self.error("unexpected character")),
        };
        n.line = line;
        Ok(n)
    }

    /// Does the current line hold an implicit mapping key (`key: …`)?
    fn implicit_key_ahead(&mut self) -> bool {
        let save = self.save();
        let pending = self.pending.len();
        let start_line = self.line;
        let ok = match self.peek() {
            Some(b'"') => self.double_quoted().is_ok(),
            Some(b'\'') => self.single_quoted().is_ok(),
            Some(b'[' | b'{') => self.flow_collection().is_ok(),
            Some(b'*') => self.name().is_ok(),
            _ if self.plain_can_start(false) => {
                let (end, why) = self.plain_line_end(self.pos, false);
                self.pos = end;
                why == b':'
            }
            _ => false,
        };
        let result = ok && self.line == start_line && {
            self.skip_blanks();
            self.at_value_indicator()
        };
        self.restore(save);
        self.pending.truncate(pending);
        self.trailing = None;
        result
    }

    /// A mapping key on one line (scalar, alias or flow collection), with properties.
    fn inline_key(&mut self) -> PResult<Node> {
        let line = self.line;
        let (anchor, tag) = self.properties(false)?;
        let mut n = match self.peek() {
            Some(b'*') | Some(b'[' | b'{') | Some(b'"') | Some(b'\'') => self.inline_node(-1)?,
            _ => {
                let (end, _) = self.plain_line_end(self.pos, false);
                let text = self.src[self.pos..end].to_string();
                self.pos = end;
                Node::scalar(text, Style::Plain)
            }
        };
        if self.line != line {
            return Err(self.error("a mapping key must fit on one line"));
        }
        n.anchor = anchor;
        n.tag = tag;
        n.line = line;
        Ok(n)
    }

    /// The value after a `:`: its key-line comment, then the node.
    fn map_value(&mut self, n: usize, comments: &mut Vec<String>, line: usize) -> PResult<Node> {
        self.skip_blanks();
        if self.peek() == Some(b'#') {
            comments.push(self.skip_comment_text());
        }
        let v = self.node(n as isize, true)?;
        if let Some(t) = self.trailing.take() {
            comments.push(t);
        }
        Ok(v.unwrap_or_else(|| empty_at(line)))
    }

    fn block_map(
        &mut self,
        n: usize,
        mut anchor: Option<String>,
        mut tag: Option<String>,
        line: usize,
    ) -> PResult<Node> {
        self.enter()?;
        let mut entries = Vec::new();
        let mut comments = self.take_pending();
        loop {
            let key_line = self.line;
            let (key, value) = if self.at_explicit_key() {
                self.pos += 1;
                let key = self
                    .node(n as isize, false)?
                    .unwrap_or_else(|| empty_at(key_line));
                if let Some(t) = self.trailing.take() {
                    comments.push(t);
                }
                let crossed = self.skip_to_content()?;
                let value =
                    if !self.eof() && (!crossed || self.col() == n) && self.at_value_indicator() {
                        self.pos += 1;
                        self.map_value(n, &mut comments, key_line)?
                    } else {
                        empty_at(key_line)
                    };
                (key, value)
            } else {
                let mut key = self.inline_key()?;
                if anchor.is_some() || tag.is_some() {
                    key.anchor = anchor.take().or(key.anchor);
                    key.tag = tag.take().or(key.tag);
                }
                self.skip_blanks();
                if !self.at_value_indicator() {
                    return Err(self.error("expected ': ' after a mapping key"));
                }
                self.pos += 1;
                let value = self.map_value(n, &mut comments, key_line)?;
                (key, value)
            };
            self.grow()?;
            entries.push(Entry {
                comments: std::mem::take(&mut comments),
                key,
                value,
            });
            self.skip_to_content()?;
            if self.eof() || self.at_document_marker() {
                break;
            }
            let c = self.col();
            if c < n || (c == n && self.at_seq_indicator()) {
                break;
            }
            if c > n {
                return Err(self.error("bad indentation of a mapping entry"));
            }
            comments = self.take_pending();
        }
        let foot = self.take_foot(n);
        self.depth -= 1;
        Ok(Node {
            value: Value::Map {
                entries,
                flow: false,
                foot,
            },
            tag: None,
            anchor: None,
            line,
        })
    }

    fn block_seq(&mut self, n: usize, line: usize) -> PResult<Node> {
        self.enter()?;
        let mut items = Vec::new();
        let mut comments = self.take_pending();
        loop {
            let item_line = self.line;
            self.pos += 1;
            self.skip_blanks();
            if self.peek() == Some(b'#') {
                comments.push(self.skip_comment_text());
            }
            let v = self.node(n as isize, false)?;
            if let Some(t) = self.trailing.take() {
                comments.push(t);
            }
            self.grow()?;
            items.push(SeqItem {
                comments: std::mem::take(&mut comments),
                node: v.unwrap_or_else(|| empty_at(item_line)),
            });
            self.skip_to_content()?;
            if self.eof() || self.at_document_marker() {
                break;
            }
            let c = self.col();
            if c == n && self.at_seq_indicator() {
                comments = self.take_pending();
                continue;
            }
            if c <= n {
                break;
            }
            return Err(self.error("bad indentation of a sequence entry"));
        }
        let foot = self.take_foot(n);
        self.depth -= 1;
        Ok(Node {
            value: Value::Seq {
                items,
                flow: false,
                foot,
            },
            tag: None,
            anchor: None,
            line,
        })
    }
}
