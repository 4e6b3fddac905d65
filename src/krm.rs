//! The KRM function protocol: a `ResourceList` in on stdin, one out on stdout.
//!
//! kustomize passes a generator its config as `functionConfig` and also as
//! the only item (tagged `config.kubernetes.io/local-config`); kpt passes the
//! package's resources (its Kptfile included). We drop the item that echoes
//! the config, pass every other item through untouched (scalar text and
//! style, tags, anchors and aliases as they were), append what the generator
//! made, and always write `items:`. On failure the input items come back with
//! a `results` entry (`severity: error`, message, file) and nothing generated.

use crate::error::{Error, Result};
use crate::yaml::emit::{Options, emit_documents, string_node};
use crate::yaml::{Entry, Node, SeqItem, Value, parse_stream};

/// A parsed ResourceList.
pub struct ResourceList {
    pub items: Vec<Node>,
    pub function_config: Option<Node>,
}

const STDIN: &str = "(ResourceList on stdin)";

fn scalar_at<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    let mut cur = n;
    for k in path {
        cur = cur.get(k)?;
    }
    cur.as_scalar()
}

/// The identity kustomize and kpt give an object: apiVersion, kind, name.
fn identity(n: &Node) -> (Option<&str>, Option<&str>, Option<&str>) {
    (
        scalar_at(n, &["apiVersion"]),
        scalar_at(n, &["kind"]),
        scalar_at(n, &["metadata", "name"]),
    )
}

impl ResourceList {
    /// Parses the ResourceList from the text on stdin.
    pub fn parse(text: &str) -> Result<ResourceList> {
        let bad = |what: String| Error::config(STDIN, "", what);
        let docs = parse_stream(text).map_err(|e| bad(e.to_string()))?;
        let roots: Vec<Node> = docs.into_iter().filter_map(|d| d.root).collect();
        let root = match roots.len() {
            1 => roots
                .into_iter()
                .next()
                .ok_or_else(|| bad("empty input".into()))?,
            0 => {
                return Err(bad(
                    "stdin is empty; expected a ResourceList (KRM function mode)".into(),
                ));
            }
            n => {
                return Err(bad(format!(
                    "stdin holds {n} YAML documents; expected one ResourceList"
                )));
            }
        };
        let kind = scalar_at(&root, &["kind"]).unwrap_or_default();
        if kind != "ResourceList" {
            return Err(bad(format!(
                "stdin is not a ResourceList (kind {kind:?}); to run as a kustomize legacy exec plugin, pass the config file as the first argument"
            )));
        }
        let api = scalar_at(&root, &["apiVersion"]).unwrap_or_default();
        if !api.starts_with("config.kubernetes.io/") {
            return Err(bad(format!(
                "the ResourceList apiVersion {api:?} is not config.kubernetes.io/v1 (or v1alpha1, v1beta1)"
            )));
        }
        let Value::Map { entries, .. } = root.value else {
            return Err(bad("the ResourceList is not a mapping".into()));
        };
        let mut items = Vec::new();
        let mut function_config = None;
        for e in entries {
            match e.key.as_scalar() {
                Some("items") => match e.value.value {
                    Value::Seq { items: list, .. } => {
                        items = list.into_iter().map(|i| i.node).collect()
                    }
                    _ if e.value.is_null() => {}
                    _ => return Err(bad("the ResourceList's items is not a list".into())),
                },
                Some("functionConfig") if !e.value.is_null() => function_config = Some(e.value),
                _ => {}
            }
        }
        Ok(ResourceList {
            items,
            function_config,
        })
    }

    /// The items less the one that echoes the function config.
    pub fn items_without_config(self) -> (Vec<Node>, Option<Node>) {
        let Some(cfg) = self.function_config else {
            return (self.items, None);
        };
        let id = identity(&cfg);
        let items = self
            .items
            .into_iter()
            .filter(|i| identity(i) != id || id.1.is_none())
            .collect();
        (items, Some(cfg))
    }
}

/// One entry of `results`.
pub struct KrmResult {
    pub message: String,
    pub file: Option<String>,
    /// `severity: warning` (else `error`).
    pub warning: bool,
}

fn s(v: &str) -> Node {
    string_node(v.as_bytes())
}

/// Prints a ResourceList (apiVersion config.kubernetes.io/v1) with the items and results.
pub fn render(items: Vec<Node>, results: &[KrmResult]) -> String {
    let mut fields = vec![
        Node::entry("apiVersion", s("config.kubernetes.io/v1")),
        Node::entry("kind", s("ResourceList")),
        Node::entry(
            "items",
            Node::seq(
                items
                    .into_iter()
                    .map(|node| SeqItem {
                        comments: Vec::new(),
                        node,
                    })
                    .collect(),
            ),
        ),
    ];
    if !results.is_empty() {
        let list = results
            .iter()
            .map(|r| {
                let mut e: Vec<Entry> = vec![
                    Node::entry("message", s(&r.message)),
                    Node::entry("severity", s(if r.warning { "warning" } else { "error" })),
                ];
                if let Some(f) = &r.file {
                    e.push(Node::entry(
                        "file",
                        Node::map(vec![Node::entry("path", s(f))]),
                    ));
                }
                SeqItem {
                    comments: Vec::new(),
                    node: Node::map(e),
                }
            })
            .collect();
        fields.push(Node::entry("results", Node::seq(list)));
    }
    emit_documents(&[Node::map(fields)], &Options::kubernetes())
}

/// Prints objects as a YAML stream (the legacy exec plugin output).
pub fn render_stream(objects: &[Node]) -> String {
    emit_documents(objects, &Options::kubernetes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = "\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: krm-sops.dev/v1
  kind: SopsGenerator
  metadata:
    name: gen
    annotations:
      config.kubernetes.io/local-config: 'true'
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: keep
  data:
    mode: 0644
    flag: 'on'
    list: [a, b]
functionConfig:
  apiVersion: krm-sops.dev/v1
  kind: SopsGenerator
  metadata:
    name: gen
";

    #[test]
    fn drops_the_config_echo_and_keeps_other_items_exactly() {
        let rl = ResourceList::parse(INPUT).unwrap();
        let (items, cfg) = rl.items_without_config();
        assert!(cfg.is_some());
        assert_eq!(items.len(), 1);
        let out = render(items, &[]);
        assert!(
            out.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"),
            "{out}"
        );
        assert!(out.contains("mode: 0644"), "{out}");
        assert!(out.contains("flag: 'on'"), "{out}");
        assert!(!out.contains("SopsGenerator"), "{out}");
    }

    #[test]
    fn always_prints_items_and_results_on_failure() {
        let out = render(
            Vec::new(),
            &[KrmResult {
                message: "boom".into(),
                file: Some("a.yaml".into()),
                warning: false,
            }],
        );
        assert!(out.contains("items: []"), "{out}");
        assert!(
            out.contains("severity: error") && out.contains("path: a.yaml"),
            "{out}"
        );
    }

    #[test]
    fn refuses_what_is_not_a_resource_list() {
        for bad in [
            "",
            "kind: ConfigMap\n",
            "a: 1\n---\nb: 2\n",
            "apiVersion: v1\nkind: ResourceList\n",
        ] {
            assert!(ResourceList::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            ResourceList::parse(
                "apiVersion: config.kubernetes.io/v1alpha1\nkind: ResourceList\nitems: []\n"
            )
            .is_ok()
        );
    }
}
