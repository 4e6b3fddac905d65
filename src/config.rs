//! Generator configurations: the `SopsGenerator` API, read strictly.
//!
//! A configuration arrives as YAML (a file kustomize hands a legacy exec
//! plugin, or the `functionConfig` of a ResourceList). This module turns it
//! into typed structs and refuses what it does not understand: unknown
//! fields, a wrong apiVersion/kind, missing names, empty entries, values of
//! the wrong type. Every message names the generator, the entry and the field.
//! Kinds from other tools (KSOPS, SopsSecretGenerator) are recognised here
//! too and dispatched to their own readers.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::yaml::resolve::{Resolved, resolve};
use crate::yaml::{Node, Value};

pub const API_VERSION: &str = "krm-sops.dev/v1";
pub const KIND: &str = "SopsGenerator";

/// `options` of a secretGenerator entry (kustomize's GeneratorOptions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub disable_name_suffix_hash: bool,
    pub immutable: bool,
}

/// How a generated Secret combines with one already in the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

/// One `secretGenerator` entry, with kustomize's fields and meaning.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretEntry {
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Behavior,
    pub secret_type: String,
    pub files: Vec<String>,
    pub envs: Vec<String>,
    pub literals: Vec<String>,
    pub options: Options,
}

/// A `SopsGenerator` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct SopsGenerator {
    /// `metadata.name`: names the generator, not a Secret.
    pub name: String,
    pub secrets: Vec<SecretEntry>,
    /// SOPS-encrypted manifests, emitted decrypted.
    pub resources: Vec<String>,
}

/// Where a configuration came from, for messages.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The file (or `(ResourceList functionConfig)`).
    pub file: String,
}

impl Origin {
    pub fn err(&self, context: impl Into<String>, message: impl Into<String>) -> Error {
        Error::config(&self.file, context, message)
    }
}

/// A mapping's entries, checked against the fields a schema allows.
pub struct Fields<'a> {
    entries: Vec<(&'a str, &'a Node)>,
}

/// Human description of a node's type, for "expected a string, found a list".
fn kind_of(n: &Node) -> &'static str {
    match &n.value {
        Value::Map { .. } => "a mapping",
        Value::Seq { .. } => "a list",
        Value::Alias(_) => "an alias",
        Value::Scalar { text, style } => match resolve(text, *style, n.tag.as_deref()) {
            Ok(Resolved::Null) => "null",
            Ok(Resolved::Bool(_)) => "a boolean",
            Ok(Resolved::Int(_) | Resolved::Uint(_)) => "a number",
            Ok(Resolved::Float(_)) => "a number",
            Ok(Resolved::Time(_)) => "a timestamp",
            _ => "a string",
        },
    }
}

impl<'a> Fields<'a> {
    /// The fields of `n`, which must be a mapping whose keys are all in `allowed`.
    pub fn of(n: &'a Node, allowed: &[&str], origin: &Origin, ctx: &str) -> Result<Fields<'a>> {
        let Value::Map { entries, .. } = &n.value else {
            return Err(origin.err(ctx, format!("expected a mapping, found {}", kind_of(n))));
        };
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let Some(k) = e.key.as_scalar() else {
                return Err(origin.err(ctx, "mapping keys must be strings"));
            };
            if !allowed.contains(&k) {
                return Err(origin.err(
                    ctx,
                    format!(
                        "unknown field {k:?} (expected one of: {})",
                        allowed.join(", ")
                    ),
                ));
            }
            if out.iter().any(|(seen, _)| *seen == k) {
                return Err(origin.err(ctx, format!("field {k:?} appears twice")));
            }
            out.push((k, &e.value));
        }
        Ok(Fields { entries: out })
    }

    pub fn get(&self, k: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }
}

/// A scalar that reads as a string (quoted, or plain text that is not a number/bool/null).
pub fn string(n: &Node, origin: &Origin, ctx: &str) -> Result<String> {
    match &n.value {
        Value::Scalar { text, style } => match resolve(text, *style, n.tag.as_deref()) {
            Ok(Resolved::Str(s)) => Ok(s),
            _ => Err(origin.err(
                ctx,
                format!("expected a string, found {} (quote it)", kind_of(n)),
            )),
        },
        _ => Err(origin.err(ctx, format!("expected a string, found {}", kind_of(n)))),
    }
}

pub fn boolean(n: &Node, origin: &Origin, ctx: &str) -> Result<bool> {
    match &n.value {
        Value::Scalar { text, style } => match resolve(text, *style, n.tag.as_deref()) {
            Ok(Resolved::Bool(b)) => Ok(b),
            _ => Err(origin.err(ctx, format!("expected true or false, found {}", kind_of(n)))),
        },
        _ => Err(origin.err(ctx, format!("expected true or false, found {}", kind_of(n)))),
    }
}

pub fn string_list(n: &Node, origin: &Origin, ctx: &str) -> Result<Vec<String>> {
    let Value::Seq { items, .. } = &n.value else {
        return Err(origin.err(
            ctx,
            format!("expected a list of strings, found {}", kind_of(n)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, it)| string(&it.node, origin, &format!("{ctx}[{i}]")))
        .collect()
}

pub fn string_map(n: &Node, origin: &Origin, ctx: &str) -> Result<BTreeMap<String, String>> {
    let Value::Map { entries, .. } = &n.value else {
        return Err(origin.err(
            ctx,
            format!("expected a mapping of strings, found {}", kind_of(n)),
        ));
    };
    let mut out = BTreeMap::new();
    for e in entries {
        let k = string(&e.key, origin, ctx)?;
        let v = string(&e.value, origin, &format!("{ctx}.{k}"))?;
        out.insert(k, v);
    }
    Ok(out)
}

/// `metadata.name` of a config object, required.
pub fn metadata_name(root: &Node, origin: &Origin, kind: &str) -> Result<String> {
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .filter(|n| !n.is_null());
    match name {
        Some(n) => {
            let s = string(n, origin, &format!("{kind} metadata.name"))?;
            if s.is_empty() {
                return Err(origin.err(kind, "metadata.name is empty"));
            }
            Ok(s)
        }
        None => Err(origin.err(kind, "metadata.name is missing (it names the generator)")),
    }
}

fn options(n: &Node, origin: &Origin, ctx: &str) -> Result<Options> {
    let f = Fields::of(
        n,
        &[
            "labels",
            "annotations",
            "disableNameSuffixHash",
            "immutable",
        ],
        origin,
        ctx,
    )?;
    Ok(Options {
        labels: f
            .get("labels")
            .map(|v| string_map(v, origin, &format!("{ctx}.labels")))
            .transpose()?
            .unwrap_or_default(),
        annotations: f
            .get("annotations")
            .map(|v| string_map(v, origin, &format!("{ctx}.annotations")))
            .transpose()?
            .unwrap_or_default(),
        disable_name_suffix_hash: f
            .get("disableNameSuffixHash")
            .map(|v| boolean(v, origin, &format!("{ctx}.disableNameSuffixHash")))
            .transpose()?
            .unwrap_or(false),
        immutable: f
            .get("immutable")
            .map(|v| boolean(v, origin, &format!("{ctx}.immutable")))
            .transpose()?
            .unwrap_or(false),
    })
}

fn secret_entry(n: &Node, origin: &Origin, ctx: &str) -> Result<SecretEntry> {
    let f = Fields::of(
        n,
        &[
            "name",
            "namespace",
            "behavior",
            "type",
            "files",
            "envs",
            "env",
            "literals",
            "options",
        ],
        origin,
        ctx,
    )?;
    let name = match f.get("name") {
        Some(v) => string(v, origin, &format!("{ctx}.name"))?,
        None => return Err(origin.err(ctx, "name is missing (it names the Secret)")),
    };
    if name.is_empty() {
        return Err(origin.err(ctx, "name is empty"));
    }
    let ctx = format!("{ctx} ({name})");
    let list = |k: &str| -> Result<Vec<String>> {
        f.get(k)
            .map(|v| string_list(v, origin, &format!("{ctx}.{k}")))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let mut envs = list("envs")?;
    if let Some(env) = f.get("env") {
        // kustomize appends the legacy singular `env` after `envs`.
        envs.push(string(env, origin, &format!("{ctx}.env"))?);
    }
    let files = list("files")?;
    let literals = list("literals")?;
    if files.is_empty() && envs.is_empty() && literals.is_empty() && f.get("behavior").is_none() {
        return Err(origin.err(
            &ctx,
            "the entry has no files, envs or literals (an empty Secret is almost certainly a mistake)",
        ));
    }
    let behavior = match f
        .get("behavior")
        .map(|v| string(v, origin, &format!("{ctx}.behavior")))
        .transpose()?
        .as_deref()
    {
        None | Some("") | Some("create") => Behavior::Create,
        Some("merge") => Behavior::Merge,
        Some("replace") => Behavior::Replace,
        Some(other) => {
            return Err(origin.err(
                format!("{ctx}.behavior"),
                format!("{other:?} is not one of create, merge, replace"),
            ));
        }
    };
    let secret_type = f
        .get("type")
        .map(|v| string(v, origin, &format!("{ctx}.type")))
        .transpose()?
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Opaque".to_string());
    let namespace = f
        .get("namespace")
        .map(|v| string(v, origin, &format!("{ctx}.namespace")))
        .transpose()?
        .filter(|n| !n.is_empty());
    let options = f
        .get("options")
        .map(|v| options(v, origin, &format!("{ctx}.options")))
        .transpose()?
        .unwrap_or_default();
    Ok(SecretEntry {
        name,
        namespace,
        behavior,
        secret_type,
        files,
        envs,
        literals,
        options,
    })
}

impl SopsGenerator {
    /// Reads a `SopsGenerator` object (apiVersion and kind already checked).
    pub fn from_node(root: &Node, origin: &Origin) -> Result<SopsGenerator> {
        let f = Fields::of(
            root,
            &[
                "apiVersion",
                "kind",
                "metadata",
                "secretGenerator",
                "resources",
            ],
            origin,
            KIND,
        )?;
        let name = metadata_name(root, origin, KIND)?;
        let ctx = format!("{KIND} {name}");
        let mut secrets = Vec::new();
        if let Some(list) = f.get("secretGenerator") {
            let Value::Seq { items, .. } = &list.value else {
                return Err(origin.err(
                    format!("{ctx}: secretGenerator"),
                    format!("expected a list of entries, found {}", kind_of(list)),
                ));
            };
            for (i, it) in items.iter().enumerate() {
                if it.node.is_null() {
                    return Err(
                        origin.err(format!("{ctx}: secretGenerator[{i}]"), "the entry is empty")
                    );
                }
                secrets.push(secret_entry(
                    &it.node,
                    origin,
                    &format!("{ctx}: secretGenerator[{i}]"),
                )?);
            }
        }
        let resources = f
            .get("resources")
            .map(|v| string_list(v, origin, &format!("{ctx}: resources")))
            .transpose()?
            .unwrap_or_default();
        if secrets.is_empty() && resources.is_empty() {
            return Err(origin.err(
                ctx,
                "neither secretGenerator nor resources lists anything to generate",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &secrets {
            let id = (s.namespace.clone().unwrap_or_default(), s.name.clone());
            if !seen.insert(id) {
                return Err(origin.err(
                    format!("{ctx}: secretGenerator"),
                    format!("two entries generate the Secret {:?}", s.name),
                ));
            }
        }
        Ok(SopsGenerator {
            name,
            secrets,
            resources,
        })
    }
}

/// A configuration of any kind krm-sops serves.
#[derive(Clone, Debug, PartialEq)]
pub enum Config {
    Sops(SopsGenerator),
    /// KSOPS (`viaduct.ai/v1`, `ksops`).
    Ksops(crate::compat::ksops::Ksops),
    /// SopsSecretGenerator (`goabout.com/v1beta1`, `SopsSecretGenerator` or `SopsSecret`).
    Ssg(crate::compat::ssg::Ssg),
}

/// apiVersion and kind of a config object.
pub fn type_meta(root: &Node) -> (String, String) {
    let get = |k: &str| {
        root.get(k)
            .and_then(Node::as_scalar)
            .unwrap_or_default()
            .to_string()
    };
    (get("apiVersion"), get("kind"))
}

impl Config {
    /// Reads any supported configuration object.
    pub fn from_node(root: &Node, origin: &Origin) -> Result<Config> {
        if !matches!(root.value, Value::Map { .. }) {
            return Err(origin.err("", "the configuration is not a mapping"));
        }
        let (api, kind) = type_meta(root);
        use crate::compat::{ksops::Ksops, ssg};
        let ksops =
            api.starts_with("viaduct.ai/") || matches!(kind.as_str(), "ksops" | "ksops-exec");
        match (api.as_str(), kind.as_str()) {
            (API_VERSION, KIND) => Ok(Config::Sops(SopsGenerator::from_node(root, origin)?)),
            (_, KIND) => Err(origin.err(
                KIND,
                format!("apiVersion {api:?} is not supported (expected {API_VERSION})"),
            )),
            _ if ksops => Ok(Config::Ksops(Ksops::from_node(root, origin)?)),
            (ssg::API_VERSION, k) if ssg::KINDS.contains(&k) => {
                Ok(Config::Ssg(ssg::Ssg::from_node(root, origin)?))
            }
            (a, k) if a.starts_with("goabout.com/") || ssg::KINDS.contains(&k) => Err(origin.err(
                "",
                format!(
                    "apiVersion {api:?} kind {kind:?}: SopsSecretGenerator configs must be apiVersion {}, kind SopsSecretGenerator (or SopsSecret)",
                    ssg::API_VERSION
                ),
            )),
            _ => Err(origin.err(
                "",
                format!(
                    "apiVersion {api:?} kind {kind:?} is not a configuration krm-sops reads (expected {API_VERSION} {KIND}, viaduct.ai/v1 ksops, or {} SopsSecretGenerator)",
                    ssg::API_VERSION
                ),
            )),
        }
    }

    /// Whether paths stay under the kustomization root unless told otherwise:
    /// kustomize's rule for our own kind; KSOPS and SopsSecretGenerator never
    /// restricted paths, so their configs keep working as they did.
    pub fn restricts_paths(&self) -> bool {
        matches!(self, Config::Sops(_))
    }

    /// Whether an object is a configuration of a kind krm-sops serves (by apiVersion and kind).
    pub fn recognizes(root: &Node) -> bool {
        let (api, kind) = type_meta(root);
        (api == API_VERSION && kind == KIND)
            || api.starts_with("viaduct.ai/")
            || matches!(kind.as_str(), "ksops" | "ksops-exec")
            || (api == crate::compat::ssg::API_VERSION
                && crate::compat::ssg::KINDS.contains(&kind.as_str()))
    }

    /// Parses YAML text holding one configuration document.
    pub fn parse(text: &str, origin: &Origin) -> Result<Config> {
        let docs = crate::yaml::parse_stream(text).map_err(|e| origin.err("", e.to_string()))?;
        let roots: Vec<&Node> = docs.iter().filter_map(|d| d.root.as_ref()).collect();
        match roots.as_slice() {
            [one] => Config::from_node(one, origin),
            [] => Err(origin.err("", "the configuration is empty")),
            _ => Err(origin.err("", "the configuration holds several documents; give one")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(
            text,
            &Origin {
                file: "gen.yaml".into(),
            },
        )
    }

    const GOOD: &str = "\
apiVersion: krm-sops.dev/v1
kind: SopsGenerator
metadata:
  name: ldap-secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: krm-sops
secretGenerator:
  - name: ldap-credentials
    namespace: jhub
    behavior: merge
    type: Opaque
    files:
      - .dockerconfigjson=.dockerconf.sops.json
    envs: [ldap.sops.env]
    literals:
      - LDAP_BIND_USER=ldap-admin
    options:
      labels: {app: jupyterhub}
      annotations: {}
      disableNameSuffixHash: false
      immutable: true
resources:
  - hub-secret.sops.yaml
";

    #[test]
    fn reads_the_documented_api() {
        let Ok(Config::Sops(g)) = parse(GOOD) else {
            panic!("not a SopsGenerator")
        };
        assert_eq!(g.name, "ldap-secrets");
        assert_eq!(g.resources, ["hub-secret.sops.yaml"]);
        let s = &g.secrets[0];
        assert_eq!(s.name, "ldap-credentials");
        assert_eq!(s.namespace.as_deref(), Some("jhub"));
        assert_eq!(s.behavior, Behavior::Merge);
        assert_eq!(s.files, [".dockerconfigjson=.dockerconf.sops.json"]);
        assert!(s.options.immutable);
        assert_eq!(
            s.options.labels.get("app").map(String::as_str),
            Some("jupyterhub")
        );
    }

    #[test]
    fn refusals_name_generator_entry_and_field() {
        let cases = [
            (
                GOOD.replace("    namespace: jhub\n", "    namespce: jhub\n"),
                "unknown field \"namespce\"",
            ),
            (
                GOOD.replace("krm-sops.dev/v1", "krm-sops.dev/v2"),
                "apiVersion \"krm-sops.dev/v2\"",
            ),
            (
                GOOD.replace("  name: ldap-secrets\n", ""),
                "metadata.name is missing",
            ),
            (
                GOOD.replace(
                    "  - name: ldap-credentials\n    namespace: jhub\n",
                    "  - namespace: jhub\n",
                ),
                "name is missing",
            ),
            (
                GOOD.replace("behavior: merge", "behavior: upsert"),
                "\"upsert\" is not one of",
            ),
            (
                GOOD.replace("immutable: true", "immutable: maybe"),
                "expected true or false",
            ),
            (
                GOOD.replace("app: jupyterhub", "app: 1.0"),
                "expected a string, found a number",
            ),
            (
                GOOD.replace("resources:\n  - hub-secret.sops.yaml\n", "resources: {}\n"),
                "expected a list",
            ),
        ];
        for (text, want) in cases {
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
            assert!(e.starts_with("gen.yaml"), "{e}");
        }
        let e = parse(&GOOD.replace("namespace: jhub", "namespce: jhub"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SopsGenerator ldap-secrets: secretGenerator[0] (ldap-credentials)")
                || e.contains("secretGenerator[0]"),
            "{e}"
        );
    }

    #[test]
    fn empty_entries_and_duplicate_secrets_are_refused() {
        let text = "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata: {name: g}\nsecretGenerator:\n  - name: a\n";
        assert!(
            parse(text)
                .unwrap_err()
                .to_string()
                .contains("no files, envs or literals")
        );
        let text = "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata: {name: g}\nsecretGenerator:\n  -\n";
        assert!(parse(text).unwrap_err().to_string().contains("empty"));
        let text = "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata: {name: g}\nsecretGenerator:\n  - {name: a, literals: [x=1]}\n  - {name: a, literals: [y=1]}\n";
        assert!(
            parse(text)
                .unwrap_err()
                .to_string()
                .contains("two entries generate")
        );
    }
}
