//! A YAML reader and writer that keep what SOPS and kustomize care about.
//!
//! SOPS files need more than a serde data model gives: comments (which may be
//! encrypted, and whose position decides their key path), scalar styles and
//! exact scalar text (unencrypted values enter the MAC as go-yaml types them),
//! anchors and aliases, and several documents per file. Kubernetes items that
//! pass through the KRM function must keep every value exactly (`0644` stays
//! `0644`). So this module parses YAML into a small node tree that records
//! those things, and prints node trees back in go-yaml v3's style.
//!
//! Layout: `yaml::scalar` scans scalars, `yaml::parse` builds the tree,
//! `yaml::resolve` types plain scalars as go-yaml v3 does, `yaml::emit`
//! prints. Resource limits (nesting depth, input size, alias expansion) are
//! enforced here and by the consumers that expand aliases.

pub mod emit;
pub mod parse;
pub mod resolve;
pub mod scalar;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    /// The tag as written (`!!str`, `!custom`, `!<tag:yaml.org,2002:str>`).
    pub tag: Option<String>,
    pub anchor: Option<String>,
    /// 1-based line of the node's first character.
    pub line: usize,
}

/// The kinds of node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar {
        text: String,
        style: Style,
    },
    Seq {
        items: Vec<SeqItem>,
        flow: bool,
        foot: Vec<String>,
    },
    Map {
        entries: Vec<Entry>,
        flow: bool,
        foot: Vec<String>,
    },
    Alias(String),
}

/// A mapping entry with the comments standing before it (head comments and
/// the comment on the key's line, in file order; text after the `#`).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub comments: Vec<String>,
    pub key: Node,
    pub value: Node,
}

/// A sequence element with the comments standing before it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqItem {
    pub comments: Vec<String>,
    pub node: Node,
}

/// One document of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// `None` for an empty document (`---` alone, or comments only).
    pub root: Option<Node>,
    /// Comments after the root's last content (or all comments of an empty document).
    pub foot: Vec<String>,
}

/// A parse error with its position; never contains input text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid YAML at line {}: {}", self.line, self.message)
    }
}

/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 512;

/// Most mapping entries and sequence items in one stream (bounds memory:
/// about 200 bytes each, parsed and converted).
pub const MAX_NODES: usize = 1_000_000;

impl Node {
    pub fn scalar(text: impl Into<String>, style: Style) -> Node {
        Node {
            value: Value::Scalar {
                text: text.into(),
                style,
            },
            tag: None,
            anchor: None,
            line: 0,
        }
    }

    pub fn map(entries: Vec<Entry>) -> Node {
        Node {
            value: Value::Map {
                entries,
                flow: false,
                foot: Vec::new(),
            },
            tag: None,
            anchor: None,
            line: 0,
        }
    }

    pub fn seq(items: Vec<SeqItem>) -> Node {
        Node {
            value: Value::Seq {
                items,
                flow: false,
                foot: Vec::new(),
            },
            tag: None,
            anchor: None,
            line: 0,
        }
    }

    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for an untagged plain scalar go-yaml resolves to null.
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } => {
                matches!(self.tag.as_deref(), None | Some("!!null"))
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    /// The first value under `key` in a mapping (keys compared as scalar text).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map { entries, .. } => entries
                .iter()
                .find(|e| e.key.as_scalar() == Some(key))
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// A mapping entry built from a plain key.
    pub fn entry(key: &str, value: Node) -> Entry {
        Entry {
            comments: Vec::new(),
            key: Node::scalar(key, Style::Plain),
            value,
        }
    }
}

/// Parses a whole stream.
pub fn parse_stream(input: &str) -> Result<Vec<Document>, Error> {
    parse::Parser::new(input).stream()
}
