//! Flow collections (`[a, b]`, `{k: v}`) and the nodes inside them, for the
//! parser in `parse.rs`: flow scalars, single-pair mappings inside sequences,
//! and comments between flow entries.

use super::super::{Entry, Node, SeqItem, Style, Value};
use super::{PResult, Parser, empty_at};

impl Parser<'_> {
    /// Skips blanks, breaks and comments inside a flow collection.
    pub(super) fn flow_ws(&mut self) -> PResult<()> {
        loop {
            self.skip_blanks();
            match self.peek() {
                // go-yaml's reader drops comments inside flow collections; so does sops.
                Some(b'#') => {
                    self.skip_comment_text();
                }
                Some(b'\n' | b'\r') => self.newline(),
                None => return Err(self.error("unterminated flow collection")),
                _ => return Ok(()),
            }
        }
    }

    fn flow_node(&mut self) -> PResult<Node> {
        self.enter()?;
        let line = self.line;
        let (anchor, tag) = self.properties(true)?;
        let mut n = match self.peek() {
            Some(b'[' | b'{') => self.flow_collection()?,
            Some(b'*') => Node {
                value: Value::Alias(self.name()?),
                tag: None,
                anchor: None,
                line,
            },
            Some(b'"') => Node::scalar(self.double_quoted()?, Style::Double),
            Some(b'\'') => Node::scalar(self.single_quoted()?, Style::Single),
            Some(b',' | b']' | b'}' | b':') => empty_at(line),
            _ if self.plain_can_start(true) => Node::scalar(self.plain(-1, true)?, Style::Plain),
            _ => return Err(self.error("unexpected character in a flow collection")),
        };
        n.anchor = anchor;
        n.tag = tag.or(n.tag);
        n.line = line;
        self.depth -= 1;
        Ok(n)
    }

    /// After a flow key: a `:` (adjacent is fine after quoted keys and collections).
    fn flow_colon(&mut self, key: &Node) -> bool {
        if self.peek() != Some(b':') {
            return false;
        }
        let json_like = matches!(
            &key.value,
            Value::Scalar {
                style: Style::Single | Style::Double,
                ..
            } | Value::Map { .. }
                | Value::Seq { .. }
        );
        let next = self.b.get(self.pos + 1).copied();
        json_like
            || matches!(
                next,
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'[' | b'{')
            )
    }

    pub(super) fn flow_collection(&mut self) -> PResult<Node> {
        self.enter()?;
        let line = self.line;
        let open = self.peek();
        self.pos += 1;
        let close = if open == Some(b'[') { b']' } else { b'}' };
        let mut items = Vec::new();
        let mut entries = Vec::new();
        loop {
            self.flow_ws()?;
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            if self.peek() == Some(b'?')
                && matches!(self.b.get(self.pos + 1), Some(b' ' | b'\t' | b'\n' | b'\r'))
            {
                self.pos += 1;
                self.flow_ws()?;
            }
            let key = self.flow_node()?;
            self.flow_ws()?;
            let pair = if self.flow_colon(&key) {
                self.pos += 1;
                self.flow_ws()?;
                let value = if matches!(self.peek(), Some(b',' | b']' | b'}')) {
                    empty_at(self.line)
                } else {
                    self.flow_node()?
                };
                self.flow_ws()?;
                Some(value)
            } else {
                None
            };
            self.grow()?;
            if close == b']' {
                match pair {
                    Some(value) => items.push(SeqItem {
                        comments: Vec::new(),
                        node: Node {
                            value: Value::Map {
                                entries: vec![Entry {
                                    comments: Vec::new(),
                                    key,
                                    value,
                                }],
                                flow: true,
                                foot: Vec::new(),
                            },
                            tag: None,
                            anchor: None,
                            line,
                        },
                    }),
                    None => items.push(SeqItem {
                        comments: Vec::new(),
                        node: key,
                    }),
                }
            } else {
                entries.push(Entry {
                    comments: Vec::new(),
                    key,
                    value: pair.unwrap_or_else(|| empty_at(line)),
                });
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(self.error(if close == b']' {
                        "expected ',' or ']' in a flow sequence"
                    } else {
                        "expected ',' or '}' in a flow mapping"
                    }));
                }
            }
        }
        self.depth -= 1;
        let value = if close == b']' {
            Value::Seq {
                items,
                flow: true,
                foot: Vec::new(),
            }
        } else {
            Value::Map {
                entries,
                flow: true,
                foot: Vec::new(),
            }
        };
        Ok(Node {
            value,
            tag: None,
            anchor: None,
            line,
        })
    }
}
