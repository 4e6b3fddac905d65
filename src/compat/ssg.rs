//! SopsSecretGenerator configurations (`apiVersion: goabout.com/v1beta1`,
//! `kind: SopsSecretGenerator`, or the older `SopsSecret`), read and run as
//! its v1.6.0 does.
//!
//! One config is one Secret named by `metadata.name`, with the config's
//! namespace, labels and annotations (less kustomize's bookkeeping ones).
//! `envs` (dotenv, flat YAML or flat JSON) come first, then `files`, each as
//! base64 in `data`, later keys winning; `data` is always present; `type`
//! only when set. The name hash is on unless `disableNameSuffixHash: true`,
//! and `behavior` becomes kustomize's behavior annotation. Decrypted `files`
//! are the text sops 3.7.3 (the one SopsSecretGenerator embeds) printed: JSON
//! without the final newline, INI with a final blank line — so migrating
//! changes no Secret and no hash. Differences, where the original fails or
//! misleads: `behavior` must be create, merge or replace; JSON envs take
//! numbers and booleans; INI envs are refused with a clear message (its
//! README promises them, its code refuses them); unknown fields warn.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::{
    Loose, Scalars, file_source, key_warning, sorted_map, string_field, string_list, string_map,
    text,
};
use crate::config::Origin;
use crate::error::{Error, Result};
use crate::generator::{Output, Plan, Root};
use crate::keys::Keyring;
use crate::secret::{BEHAVIOR, NEEDS_HASH};
use crate::sops::store::Format;
use crate::sops::tree::SecretBytes;
use crate::yaml::Node;

pub const API_VERSION: &str = "goabout.com/v1beta1";
pub const KINDS: [&str; 2] = ["SopsSecretGenerator", "SopsSecret"];

/// A SopsSecretGenerator configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Ssg {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub envs: Vec<String>,
    pub files: Vec<String>,
    pub behavior: String,
    pub disable_name_suffix_hash: bool,
    pub secret_type: String,
    pub warnings: Vec<String>,
}

const S: Scalars = Scalars::AsWritten;

/// Annotations never copied to the Secret: the generator's own markers and
/// the bookkeeping kustomize and kpt add to items.
fn dropped_annotation(k: &str) -> bool {
    matches!(
        k,
        "config.kubernetes.io/local-config"
            | "config.kubernetes.io/function"
            | "config.kubernetes.io/index"
            | "config.kubernetes.io/path"
            | "config.kubernetes.io/id"
            | "config.k8s.io/id"
            | "kustomize.config.k8s.io/id"
    ) || k.starts_with("internal.config.kubernetes.io/")
}

/// go-yaml v3 into a bool: YAML 1.2 booleans and YAML 1.1's yes/no/on/off.
fn bool_field(n: &Node, origin: &Origin, ctx: &str) -> Result<bool> {
    let t = match &n.value {
        crate::yaml::Value::Scalar { text, style } if *style == crate::yaml::Style::Plain => {
            text.as_str()
        }
        _ => "",
    };
    match t {
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Ok(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            Ok(false)
        }
        _ => Err(origin.err(ctx, "expected true or false (unquoted)")),
    }
}

impl Ssg {
    /// Reads a SopsSecretGenerator object (identity already checked).
    pub fn from_node(root: &Node, origin: &Origin) -> Result<Ssg> {
        let mut w = Vec::new();
        let kind = root
            .get("kind")
            .and_then(Node::as_scalar)
            .unwrap_or(KINDS[0])
            .to_string();
        let f = Loose::of(
            root,
            &[
                "apiVersion",
                "kind",
                "metadata",
                "envs",
                "files",
                "behavior",
                "disableNameSuffixHash",
                "type",
            ],
            false,
            origin,
            &kind,
            &mut w,
        )?;
        let empty = Node::scalar("", crate::yaml::Style::Plain);
        let mut ignored = Vec::new();
        let m = Loose::of(
            f.get("metadata").unwrap_or(&empty),
            &["name", "namespace", "labels", "annotations"],
            false,
            origin,
            &format!("{kind} metadata"),
            &mut ignored,
        )?;
        let s = |l: &Loose, k: &str, ctx: &str| {
            l.get(k)
                .map(|v| string_field(v, S, origin, &format!("{ctx}{k}")))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let name = s(&m, "name", "metadata.")?;
        if name.is_empty() {
            return Err(origin.err(&kind, "metadata.name is missing (it names the Secret)"));
        }
        let ctx = format!("{kind} {name}");
        let behavior = s(&f, "behavior", "")?;
        if !matches!(behavior.as_str(), "" | "create" | "merge" | "replace") {
            return Err(origin.err(
                format!("{ctx}: behavior"),
                format!("{behavior:?} is not one of create, merge, replace (SopsSecretGenerator would pass it on and kustomize would treat it as create)"),
            ));
        }
        let disable = f
            .get("disableNameSuffixHash")
            .map(|v| bool_field(v, origin, &format!("{ctx}: disableNameSuffixHash")))
            .transpose()?
            .unwrap_or(false);
        let annotations = string_map(
            m.get("annotations"),
            S,
            origin,
            &format!("{ctx}: metadata.annotations"),
        )?;
        if !disable
            && annotations
                .iter()
                .any(|(k, v)| k == NEEDS_HASH && v != "true")
        {
            w.push(format!(
                "{ctx}: the annotation {NEEDS_HASH} is replaced by \"true\" because disableNameSuffixHash is not true (as SopsSecretGenerator does)"
            ));
        }
        Ok(Ssg {
            namespace: s(&m, "namespace", "metadata.")?,
            labels: string_map(
                m.get("labels"),
                S,
                origin,
                &format!("{ctx}: metadata.labels"),
            )?,
            annotations: annotations
                .into_iter()
                .filter(|(k, _)| !dropped_annotation(k))
                .collect(),
            envs: string_list(f.get("envs"), S, origin, &format!("{ctx}: envs"))?,
            files: string_list(f.get("files"), S, origin, &format!("{ctx}: files"))?,
            secret_type: s(&f, "type", "")?,
            behavior,
            disable_name_suffix_hash: disable,
            kind,
            name,
            warnings: w,
        })
    }
}

/// Decrypted file text as sops 3.7.3 printed it.
fn sops_373_text(format: Format, text: SecretBytes) -> SecretBytes {
    let b = text.as_bytes();
    match format {
        Format::Json if b.ends_with(b"\n") => SecretBytes::new(b[..b.len() - 1].to_vec()),
        Format::Ini if b.ends_with(b"\n") => {
            let mut v = b.to_vec();
            v.push(b'\n');
            SecretBytes::new(v)
        }
        _ => text,
    }
}

/// Runs a SopsSecretGenerator configuration.
pub fn run(g: &Ssg, root: &Root, keyring: &Keyring, origin: &str) -> Result<Output> {
    let ctx = format!("{} {}", g.kind, g.name);
    let mut warnings = g.warnings.clone();
    let files = g
        .files
        .iter()
        .enumerate()
        .map(|(j, f)| {
            file_source(f).map_err(|m| Error::config(origin, format!("{ctx}: files[{j}]"), m))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut plan = Plan::new();
    for (j, p) in g.envs.iter().enumerate() {
        plan.add(p, format!("{ctx}: envs[{j}]"));
    }
    for (j, (_, p)) in files.iter().enumerate() {
        plan.add(p, format!("{ctx}: files[{j}]"));
    }
    let done = plan.run(root, keyring)?;

    let mut data: BTreeMap<String, SecretBytes> = BTreeMap::new();
    for (j, rel) in g.envs.iter().enumerate() {
        let (format, d) = done.get(rel)?;
        let pairs = match format {
            Format::Dotenv => super::ssg_env::dotenv(done.text(rel)?.as_bytes()),
            Format::Yaml => super::ssg_env::yaml(done.text(rel)?.as_bytes()),
            Format::Json => super::ssg_env::json(d.docs.first()),
            Format::Ini => Err(
                "INI files cannot be envs: SopsSecretGenerator's README lists them, but v1.6.0 refuses them; use a dotenv, YAML or JSON file, or list the file under files:".into(),
            ),
            Format::Binary => Err("envs takes dotenv (.env), YAML (.yaml, .yml) or JSON (.json) files; list other files under files:".into()),
        }
        .map_err(|m| Error::malformed(rel, m).within(format!("{ctx}: envs[{j}]")))?;
        for (k, v) in pairs {
            data.insert(k, v);
        }
    }
    for (key, rel) in &files {
        let (format, _) = done.get(rel)?;
        data.insert(key.to_string(), sops_373_text(*format, done.text(rel)?));
    }
    for k in data.keys() {
        warnings.extend(key_warning(&g.name, k));
    }
    Ok(Output {
        objects: vec![secret_node(g, &data)],
        opened_by: done.opened_by(),
        warnings,
    })
}

/// The Secret, fields in SopsSecretGenerator's order.
fn secret_node(g: &Ssg, data: &BTreeMap<String, SecretBytes>) -> Node {
    let mut annotations = g.annotations.clone();
    let mut set = |k: &str, v: &str| {
        annotations.retain(|(old, _)| old != k);
        annotations.push((k.to_string(), v.to_string()));
    };
    if !g.disable_name_suffix_hash {
        set(NEEDS_HASH, "true");
    }
    if !g.behavior.is_empty() {
        set(BEHAVIOR, &g.behavior);
    }
    let pairs = |v: &[(String, String)]| sorted_map(v.iter().map(|(k, v)| (k.as_str(), text(v))));
    let mut meta = vec![Node::entry("name", text(&g.name))];
    if !g.namespace.is_empty() {
        meta.push(Node::entry("namespace", text(&g.namespace)));
    }
    if !g.labels.is_empty() {
        meta.push(Node::entry("labels", pairs(&g.labels)));
    }
    if !annotations.is_empty() {
        meta.push(Node::entry("annotations", pairs(&annotations)));
    }
    let b64 =
        |v: &SecretBytes| text(&base64::engine::general_purpose::STANDARD.encode(v.as_bytes()));
    let mut fields = vec![
        Node::entry("apiVersion", text("v1")),
        Node::entry("kind", text("Secret")),
        Node::entry("metadata", Node::map(meta)),
        Node::entry(
            "data",
            sorted_map(data.iter().map(|(k, v)| (k.as_str(), b64(v)))),
        ),
    ];
    if !g.secret_type.is_empty() {
        fields.push(Node::entry("type", text(&g.secret_type)));
    }
    Node::map(fields)
}
