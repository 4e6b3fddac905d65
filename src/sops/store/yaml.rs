//! The YAML store: sops' view of a YAML file, and `sops decrypt`'s printing.
//!
//! Each document becomes one branch (its root must be a mapping, or empty);
//! scalars are typed as go-yaml v3 types them; aliases are expanded (anchors
//! are not kept, as in sops) under a budget that stops alias bombs; comments
//! become comment items where go-yaml attaches them. The `sops` metadata is
//! read from the first document and removed from every document; duplicate
//! top-level keys in the first document are refused as sops refuses them.
//! Printing rebuilds nodes from the tree — comments before an item become its
//! head comments, trailing ones the last item's foot — and prints them in
//! go-yaml v3's style with sops' indentation of 4.

use std::collections::HashMap;

use crate::sops::metadata::Meta;
use crate::sops::tree::{Branch, Item, SecretBytes, Value};
use crate::yaml::resolve::{Resolved, resolve};
use crate::yaml::{self, Entry, Node, SeqItem};

/// Most nodes alias expansion may produce in one file (a "billion laughs" guard).
pub const MAX_EXPANDED_NODES: usize = 1_000_000;

struct Converter<'a> {
    anchors: HashMap<&'a str, &'a Node>,
    /// Anchors currently being expanded (a self-referencing alias is refused).
    expanding: Vec<&'a str>,
    budget: usize,
}

impl<'a> Converter<'a> {
    fn new() -> Self {
        Converter {
            anchors: HashMap::new(),
            expanding: Vec::new(),
            budget: MAX_EXPANDED_NODES,
        }
    }

    fn spend(&mut self, line: usize) -> Result<(), String> {
        if self.budget == 0 {
            return Err(format!(
                "line {line}: aliases expand to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)"
            ));
        }
        self.budget -= 1;
        Ok(())
    }

    fn register(&mut self, n: &'a Node) {
        if let Some(a) = &n.anchor {
            self.anchors.insert(a.as_str(), n);
        }
    }

    fn target(&self, name: &str, line: usize) -> Result<&'a Node, String> {
        if self.expanding.contains(&name) {
            return Err(format!("line {line}: the alias *{name} refers to itself"));
        }
        self.anchors
            .get(name)
            .copied()
            .ok_or_else(|| format!("line {line}: unknown alias *{name}"))
    }

    fn comments_into_list(list: &mut Vec<Value>, comments: &[String]) {
        for c in comments {
            list.push(Value::Comment(SecretBytes::from_text(c)));
        }
    }

    fn comments_into_branch(b: &mut Branch, comments: &[String]) {
        for c in comments {
            b.push_comment(SecretBytes::from_text(c));
        }
    }

    fn value(&mut self, n: &'a Node) -> Result<Value, String> {
        self.spend(n.line)?;
        let v = match &n.value {
            yaml::Value::Scalar { text, style } => {
                // A scalar whose explicit tag does not fit decodes to null in go-yaml (and sops).
                match resolve(text, *style, n.tag.as_deref()).unwrap_or(Resolved::Null) {
                    Resolved::Null => Value::Null,
                    Resolved::Bool(b) => Value::Bool(b),
                    Resolved::Int(i) => Value::Int(i),
                    Resolved::Uint(u) => Value::Uint(u),
                    Resolved::Float(f) => Value::Float(f),
                    Resolved::Str(s) => Value::Str(SecretBytes::new(s.into_bytes())),
                    Resolved::Time(t) => Value::Time(t),
                    Resolved::Binary(b) => Value::Str(SecretBytes::new(b)),
                }
            }
            yaml::Value::Alias(name) => {
                let target = self.target(name, n.line)?;
                self.expanding.push(name);
                let r = self.value(target);
                self.expanding.pop();
                r?
            }
            yaml::Value::Seq { items, foot, .. } => {
                let mut list = Vec::with_capacity(items.len());
                for it in items {
                    Self::comments_into_list(&mut list, &it.comments);
                    list.push(self.value(&it.node)?);
                }
                Self::comments_into_list(&mut list, foot);
                Value::List(list)
            }
            yaml::Value::Map { entries, foot, .. } => {
                Value::Map(self.branch(entries, foot, false)?)
            }
        };
        self.register(n);
        Ok(v)
    }

    fn key(&mut self, k: &'a Node) -> Result<String, String> {
        let node = match &k.value {
            yaml::Value::Alias(name) => self.target(name, k.line)?,
            _ => k,
        };
        let r = match &node.value {
            yaml::Value::Scalar { text, style } => resolve(text, *style, node.tag.as_deref())
                .map_err(|e| format!("line {}: {e}", k.line))?,
            _ => {
                return Err(format!(
                    "line {}: a mapping key is a collection; sops supports only string keys",
                    k.line
                ));
            }
        };
        self.register(k);
        match r {
            Resolved::Str(s) => Ok(s),
            other => Err(format!(
                "line {}: the mapping key is not a string but {}; sops supports only string keys (quote it)",
                k.line,
                match other {
                    Resolved::Null => "null",
                    Resolved::Bool(_) => "a bool",
                    Resolved::Int(_) | Resolved::Uint(_) => "an int",
                    Resolved::Float(_) => "a float",
                    Resolved::Time(_) => "a timestamp",
                    _ => "binary data",
                }
            )),
        }
    }

    /// A mapping as a branch; at a document's top level the `sops` entries are left out.
    fn branch(
        &mut self,
        entries: &'a [Entry],
        foot: &'a [String],
        top: bool,
    ) -> Result<Branch, String> {
        let mut b = Branch::new();
        for e in entries {
            // sops removes the `sops` item but keeps the comments standing before it.
            Self::comments_into_branch(&mut b, &e.comments);
            if top && is_sops_key(e) {
                continue;
            }
            let k = self.key(&e.key)?;
            let v = self.value(&e.value)?;
            b.push(k, v);
        }
        Self::comments_into_branch(&mut b, foot);
        Ok(b)
    }
}

fn to_meta(n: &Node, anchors: &HashMap<&str, &Node>, depth: usize) -> Result<Meta, String> {
    if depth > 64 {
        return Err("the sops metadata is nested too deeply".into());
    }
    Ok(match &n.value {
        yaml::Value::Scalar { text, .. } => {
            if n.is_null() {
                Meta::Null
            } else {
                Meta::Scalar(text.clone())
            }
        }
        yaml::Value::Alias(name) => {
            let t = anchors
                .get(name.as_str())
                .ok_or_else(|| format!("unknown alias *{name} in the sops metadata"))?;
            to_meta(t, anchors, depth + 1)?
        }
        yaml::Value::Seq { items, .. } => Meta::List(
            items
                .iter()
                .map(|i| to_meta(&i.node, anchors, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        yaml::Value::Map { entries, .. } => Meta::Map(
            entries
                .iter()
                .map(|e| {
                    Ok((
                        e.key.as_scalar().unwrap_or_default().to_string(),
                        to_meta(&e.value, anchors, depth + 1)?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn collect_anchors<'a>(n: &'a Node, out: &mut HashMap<&'a str, &'a Node>) {
    if let Some(a) = &n.anchor {
        out.insert(a, n);
    }
    match &n.value {
        yaml::Value::Seq { items, .. } => items.iter().for_each(|i| collect_anchors(&i.node, out)),
        yaml::Value::Map { entries, .. } => entries.iter().for_each(|e| {
            collect_anchors(&e.key, out);
            collect_anchors(&e.value, out);
        }),
        _ => {}
    }
}

fn is_sops_key(e: &Entry) -> bool {
    e.key.as_scalar() == Some("sops")
}

/// Reads a YAML file: one branch per document, and the first document's metadata.
pub fn load(input: &[u8]) -> Result<(Vec<Branch>, Option<Meta>), String> {
    let text = std::str::from_utf8(input).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {} (YAML files must be UTF-8)",
            e.valid_up_to()
        )
    })?;
    let docs = yaml::parse_stream(text).map_err(|e| e.to_string())?;
    let mut meta = None;
    let mut branches = Vec::with_capacity(docs.len());
    // Anchors carry over from one document to the next, as in go-yaml's decoder.
    let mut conv = Converter::new();
    for (i, doc) in docs.iter().enumerate() {
        let mut branch = match &doc.root {
            None => Branch::new(),
            Some(root) => {
                match &root.value {
                    yaml::Value::Map { entries, foot, .. } => {
                        if i == 0 {
                            check_top_level(entries)?;
                            if let Some(e) = entries.iter().find(|e| is_sops_key(e)) {
                                let mut anchors = HashMap::new();
                                collect_anchors(root, &mut anchors);
                                meta = Some(to_meta(&e.value, &anchors, 0)?);
                            }
                        }
                        if i > 0 {
                            check_later_sops_key(entries, i)?;
                        }
                        conv.register(root);
                        conv.branch(entries, foot, true)?
                    }
                    yaml::Value::Seq { .. } => {
                        return Err("YAML documents whose top level is a sequence are not supported by sops".into());
                    }
                    yaml::Value::Alias(_) => {
                        return Err(
                            "a YAML document whose top level is an alias is not supported".into(),
                        );
                    }
                    yaml::Value::Scalar { .. } if root.is_null() => Branch::new(),
                    yaml::Value::Scalar { .. } => {
                        return Err("YAML documents whose top level is a plain value are not supported by sops".into());
                    }
                }
            }
        };
        for c in &doc.foot {
            branch.push_comment(SecretBytes::from_text(c));
        }
        branches.push(branch);
    }
    Ok((branches, meta))
}

/// Later documents carry a copy of the metadata under `sops`; any other
/// top-level `sops` value is user data that would collide with it.
fn check_later_sops_key(entries: &[Entry], doc: usize) -> Result<(), String> {
    for e in entries.iter().filter(|e| is_sops_key(e)) {
        let is_metadata = e.value.get("mac").is_some() || e.value.get("lastmodified").is_some();
        if !is_metadata {
            return Err(format!(
                "line {}: document {} has a top-level key `sops`, which sops reserves for its metadata (rename the key)",
                e.key.line,
                doc + 1
            ));
        }
    }
    Ok(())
}

/// sops (yaml.v3 decoding its metadata struct) refuses duplicate top-level keys.
fn check_top_level(entries: &[Entry]) -> Result<(), String> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    for e in entries {
        let Some(k) = e.key.as_scalar() else { continue };
        if let Some(first) = seen.insert(k, e.key.line) {
            return Err(format!(
                "line {}: the top-level key {k:?} is already defined at line {first} (sops refuses duplicate top-level keys)",
                e.key.line
            ));
        }
    }
    Ok(())
}

// ---- printing -------------------------------------------------------------

fn scalar_node(v: &Value) -> Node {
    yaml::emit::value_node(v)
}

fn comment_text(c: &SecretBytes) -> String {
    String::from_utf8_lossy(c.as_bytes()).into_owned()
}

fn list_node(items: &[Value]) -> Node {
    let mut out: Vec<SeqItem> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for v in items {
        if let Value::Comment(c) = v {
            pending.push(comment_text(c));
            continue;
        }
        out.push(SeqItem {
            comments: std::mem::take(&mut pending),
            node: tree_node(v),
        });
    }
    let mut n = Node::seq(out);
    if let yaml::Value::Seq { foot, .. } = &mut n.value {
        *foot = pending;
    }
    n
}

fn branch_node(b: &Branch) -> Node {
    let mut entries: Vec<Entry> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for item in &b.0 {
        match item {
            Item::Comment(c) => pending.push(comment_text(c)),
            Item::Entry(k, v) => entries.push(Entry {
                comments: std::mem::take(&mut pending),
                key: yaml::emit::key_node(k),
                value: tree_node(v),
            }),
        }
    }
    let mut n = Node::map(entries);
    if let yaml::Value::Map { foot, .. } = &mut n.value {
        *foot = pending;
    }
    n
}

fn tree_node(v: &Value) -> Node {
    match v {
        Value::Map(b) => branch_node(b),
        Value::List(l) => list_node(l),
        other => scalar_node(other),
    }
}

/// A document as a Kubernetes object node (comments dropped; kustomize drops them too).
pub fn kubernetes_node(doc: &Branch) -> Node {
    strip_comments(branch_node(doc))
}

fn strip_comments(mut n: Node) -> Node {
    match &mut n.value {
        yaml::Value::Map { entries, foot, .. } => {
            foot.clear();
            for e in entries.iter_mut() {
                e.comments.clear();
                let v = std::mem::replace(&mut e.value, Node::scalar("", yaml::Style::Plain));
                e.value = strip_comments(v);
            }
        }
        yaml::Value::Seq { items, foot, .. } => {
            foot.clear();
            for it in items.iter_mut() {
                it.comments.clear();
                let v = std::mem::replace(&mut it.node, Node::scalar("", yaml::Style::Plain));
                it.node = strip_comments(v);
            }
        }
        _ => {}
    }
    n
}

/// Prints documents as `sops decrypt --output-type yaml` does.
pub fn emit(docs: &[Branch]) -> Result<Vec<u8>, String> {
    let nodes: Vec<Node> = docs.iter().map(branch_node).collect();
    Ok(yaml::emit::emit_documents(&nodes, &yaml::emit::Options::sops()).into_bytes())
}
