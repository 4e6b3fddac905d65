//! KSOPS configurations (`apiVersion: viaduct.ai/v1`, `kind: ksops`), read
//! and run as KSOPS v4 does.
//!
//! `files` are SOPS-encrypted manifests, emitted decrypted. Each
//! `secretFrom` entry becomes one `v1/Secret` with the entry's `metadata`
//! and `type` copied as given (no `type` when unset, no annotations added, so
//! no name hash unless the entry asks for one with
//! `kustomize.config.k8s.io/needs-hash`): `files` go to `stringData` as text,
//! `binaryFiles` to `data` as base64, `envs` (parsed by godotenv's rules,
//! whatever the file's format) to `stringData`, later sources winning. Field
//! names match case-insensitively and scalars are coerced as KSOPS's YAML
//! library does. Differences, all where KSOPS fails or loses data: a second
//! `=` in a file source is an error (KSOPS exits mid-run), `literals` are
//! honoured (KSOPS drops them), non-UTF-8 `files` are refused (KSOPS
//! corrupts them), keys with `-` work in `envs`, unknown fields warn, and a
//! Secret must have a name.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::{
    Loose, Scalars, file_source, key_warning, sorted_map, string_field, string_list, string_map,
    text,
};
use crate::config::Origin;
use crate::error::{Error, Result};
use crate::generator::{Decryptions, Output, Plan, Root};
use crate::keys::Keyring;
use crate::secret::parse_literal;
use crate::sops::store::Format;
use crate::sops::tree::SecretBytes;
use crate::yaml::{Node, Value, parse_stream};

/// `metadata` of a generated Secret (kustomize's `types.ObjectMeta`).
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

/// One `secretFrom` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretFrom {
    pub metadata: Meta,
    pub secret_type: String,
    pub files: Vec<String>,
    pub binary_files: Vec<String>,
    pub envs: Vec<String>,
    /// Not read by KSOPS (its issue #189); honoured here, into `stringData`.
    pub literals: Vec<String>,
}

/// A KSOPS configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Ksops {
    /// `metadata.name`, for messages only.
    pub name: String,
    pub files: Vec<String>,
    pub secret_from: Vec<SecretFrom>,
    /// Warnings met while reading (ignored fields).
    pub warnings: Vec<String>,
}

const S: Scalars = Scalars::Yaml11;

fn meta(n: Option<&Node>, origin: &Origin, ctx: &str, w: &mut Vec<String>) -> Result<Meta> {
    let empty = Node::scalar("", crate::yaml::Style::Plain);
    let f = Loose::of(
        n.unwrap_or(&empty),
        &["name", "namespace", "labels", "annotations"],
        true,
        origin,
        ctx,
        w,
    )?;
    let s = |k: &str| {
        f.get(k)
            .map(|v| string_field(v, S, origin, &format!("{ctx}.{k}")))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let name = s("name")?;
    if name.is_empty() {
        return Err(origin.err(
            ctx,
            "metadata.name is missing (KSOPS would emit a Secret without a name, which kustomize refuses)",
        ));
    }
    Ok(Meta {
        name,
        namespace: s("namespace")?,
        labels: string_map(f.get("labels"), S, origin, &format!("{ctx}.labels"))?,
        annotations: string_map(
            f.get("annotations"),
            S,
            origin,
            &format!("{ctx}.annotations"),
        )?,
    })
}

impl Ksops {
    /// Reads a KSOPS object (its apiVersion is `viaduct.ai/*`; kind is not checked, as in KSOPS).
    pub fn from_node(root: &Node, origin: &Origin) -> Result<Ksops> {
        let mut w = Vec::new();
        let name = root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_scalar)
            .unwrap_or_default()
            .to_string();
        let ctx = if name.is_empty() {
            "ksops".to_string()
        } else {
            format!("ksops {name}")
        };
        let f = Loose::of(
            root,
            &["apiVersion", "kind", "metadata", "files", "secretFrom"],
            true,
            origin,
            &ctx,
            &mut w,
        )?;
        if f.get("files").is_none() && f.get("secretFrom").is_none() {
            let typo = if f.unknown.is_empty() {
                String::new()
            } else {
                format!(" (unknown fields: {}; a typo?)", f.unknown.join(", "))
            };
            return Err(origin.err(
                &ctx,
                format!("the config has neither files nor secretFrom, so there is nothing to generate{typo}"),
            ));
        }
        let files = string_list(f.get("files"), S, origin, &format!("{ctx}: files"))?;
        let mut secret_from = Vec::new();
        if let Some(list) = f.get("secretFrom") {
            let Value::Seq { items, .. } = &list.value else {
                return Err(origin.err(format!("{ctx}: secretFrom"), "expected a list of entries"));
            };
            for (i, it) in items.iter().enumerate() {
                let ectx = format!("{ctx}: secretFrom[{i}]");
                let e = Loose::of(
                    &it.node,
                    &[
                        "metadata",
                        "type",
                        "files",
                        "binaryFiles",
                        "envs",
                        "literals",
                    ],
                    true,
                    origin,
                    &ectx,
                    &mut w,
                )?;
                let metadata = meta(
                    e.get("metadata"),
                    origin,
                    &format!("{ectx}.metadata"),
                    &mut w,
                )?;
                let ectx = format!("{ectx} ({})", metadata.name);
                let list = |k: &str| string_list(e.get(k), S, origin, &format!("{ectx}.{k}"));
                secret_from.push(SecretFrom {
                    secret_type: e
                        .get("type")
                        .map(|v| string_field(v, S, origin, &format!("{ectx}.type")))
                        .transpose()?
                        .unwrap_or_default(),
                    files: list("files")?,
                    binary_files: list("binaryFiles")?,
                    envs: list("envs")?,
                    literals: list("literals")?,
                    metadata,
                });
            }
        }
        if files.is_empty() && secret_from.is_empty() {
            w.push(format!(
                "{ctx}: files and secretFrom are empty; nothing is generated"
            ));
        }
        Ok(Ksops {
            name: ctx,
            files,
            secret_from,
            warnings: w,
        })
    }
}

/// `KSOPS_CONCURRENCY_LIMIT`, checked as KSOPS checks it.
fn concurrency_limit() -> Result<Option<usize>> {
    match std::env::var("KSOPS_CONCURRENCY_LIMIT") {
        Err(_) => Ok(None),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(Error::usage(format!(
                "KSOPS_CONCURRENCY_LIMIT={v:?} is not an integer of at least 1"
            ))),
        },
    }
}

/// The objects of a decrypted `files` manifest.
fn manifests(rel: &str, done: &Decryptions) -> Result<Vec<Node>> {
    let (format, d) = done.get(rel)?;
    match format {
        Format::Yaml | Format::Json => Ok(d
            .docs
            .iter()
            .filter(|doc| doc.entries().next().is_some())
            .map(crate::sops::store::yaml::kubernetes_node)
            .collect()),
        Format::Binary => {
            let plain = done.text(rel)?;
            let text = plain.as_str().ok_or_else(|| {
                Error::malformed(
                    rel,
                    "the decrypted file is not UTF-8 text, so it cannot be a manifest",
                )
            })?;
            let docs = parse_stream(text)
                .map_err(|e| Error::malformed(rel, format!("the decrypted manifest: {e}")))?;
            let mut out = Vec::new();
            for (i, doc) in docs.into_iter().enumerate() {
                match doc.root {
                    None => {}
                    Some(n) if matches!(n.value, Value::Map { .. }) => out.push(n),
                    Some(_) => {
                        return Err(Error::malformed(
                            rel,
                            format!(
                                "document {} of the decrypted manifest is not a mapping",
                                i + 1
                            ),
                        ));
                    }
                }
            }
            Ok(out)
        }
        Format::Dotenv | Format::Ini => Err(Error::malformed(
            rel,
            format!(
                "a {} file is not a manifest; list it under secretFrom[].envs or secretFrom[].files",
                format.name()
            ),
        )),
    }
}

/// Where a key's value came from, to warn when a later source replaces it.
struct Keys<'a> {
    secret: &'a str,
    string_data: BTreeMap<String, (SecretBytes, String)>,
    data: BTreeMap<String, (String, String)>,
    warnings: &'a mut Vec<String>,
}

impl Keys<'_> {
    fn string(&mut self, k: &str, v: SecretBytes, from: String) {
        if let Some((_, old)) = self.string_data.get(k)
            && *old != from
        {
            self.warnings.push(format!(
                "Secret {:?}: the key {k:?} from {from} replaces the one from {old} (as in KSOPS, the later source wins)",
                self.secret
            ));
        }
        self.string_data.insert(k.to_string(), (v, from));
    }
}

/// Runs a KSOPS configuration.
pub fn run(k: &Ksops, root: &Root, keyring: &Keyring, origin: &str) -> Result<Output> {
    let mut warnings = k.warnings.clone();
    let ctx = &k.name;
    let bad = |c: String, m: String| Error::config(origin, c, m);
    let mut plan = Plan::new();
    if let Some(n) = concurrency_limit()? {
        plan.max_threads(n);
    }
    for (j, p) in k.files.iter().enumerate() {
        plan.add(p, format!("{ctx}: files[{j}]"));
    }
    // File sources and literals are checked before anything is decrypted.
    let mut sources = Vec::new();
    for (i, s) in k.secret_from.iter().enumerate() {
        let ectx = format!("{ctx}: secretFrom[{i}] ({})", s.metadata.name);
        let split = |list: &'_ [String], field: &str| -> Result<Vec<(String, String)>> {
            list.iter()
                .enumerate()
                .map(|(j, f)| {
                    file_source(f)
                        .map(|(key, p)| (key.to_string(), p.to_string()))
                        .map_err(|m| bad(format!("{ectx}.{field}[{j}]"), m))
                })
                .collect()
        };
        let files = split(&s.files, "files")?;
        let binary = split(&s.binary_files, "binaryFiles")?;
        let literals = s
            .literals
            .iter()
            .enumerate()
            .map(|(j, l)| {
                parse_literal(l)
                    .map_err(|m| bad(format!("{ectx}.literals[{j}]"), format!("the literal {m}")))
            })
            .collect::<Result<Vec<_>>>()?;
        sources.push((ectx, files, binary, literals));
    }
    for (s, (ectx, files, binary, _)) in k.secret_from.iter().zip(&sources) {
        for (j, (_, p)) in files.iter().enumerate() {
            plan.add(p, format!("{ectx}: files[{j}]"));
        }
        for (j, (_, p)) in binary.iter().enumerate() {
            plan.add(p, format!("{ectx}: binaryFiles[{j}]"));
        }
        for (j, p) in s.envs.iter().enumerate() {
            plan.add(p, format!("{ectx}: envs[{j}]"));
        }
    }
    let done = plan.run(root, keyring)?;

    let mut objects = Vec::new();
    for (j, rel) in k.files.iter().enumerate() {
        objects.extend(manifests(rel, &done).map_err(|e| e.within(format!("{ctx}: files[{j}]")))?);
    }
    for (s, (ectx, files, binary, literals)) in k.secret_from.iter().zip(&sources) {
        let mut keys = Keys {
            secret: &s.metadata.name,
            string_data: BTreeMap::new(),
            data: BTreeMap::new(),
            warnings: &mut warnings,
        };
        for (j, (key, rel)) in files.iter().enumerate() {
            let plain = done.text(rel)?;
            if plain.as_str().is_none() {
                return Err(Error::malformed(
                    rel,
                    "the decrypted file is not UTF-8 text, and secretFrom[].files go to stringData (KSOPS would silently replace the bytes with U+FFFD); list it under binaryFiles",
                )
                .within(format!("{ectx}: files[{j}]")));
            }
            keys.string(key, plain, format!("files[{j}]"));
        }
        for (j, (key, rel)) in binary.iter().enumerate() {
            let plain = done.text(rel)?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(plain.as_bytes());
            keys.data
                .insert(key.clone(), (b64, format!("binaryFiles[{j}]")));
        }
        for (j, rel) in s.envs.iter().enumerate() {
            let plain = done.text(rel)?;
            let parsed = super::godotenv::parse(plain.as_bytes()).map_err(|m| {
                Error::malformed(
                    rel,
                    format!("as a dotenv file (KSOPS reads every envs file with godotenv): {m}"),
                )
                .within(format!("{ectx}: envs[{j}]"))
            })?;
            for (line, name) in parsed.undefined {
                keys.warnings.push(format!(
                    "{ectx}: envs[{j}] {rel}: line {line}: ${name} is not defined earlier in the file, so it expands to nothing (as in KSOPS); single-quote the value to keep a literal '$'"
                ));
            }
            for (key, v) in parsed.pairs {
                keys.string(&key, v, format!("envs[{j}]"));
            }
        }
        for (j, (key, v)) in literals.iter().enumerate() {
            keys.string(key, v.clone(), format!("literals[{j}]"));
        }
        let Keys {
            string_data, data, ..
        } = keys;
        for key in string_data.keys().chain(data.keys()) {
            warnings.extend(key_warning(&s.metadata.name, key));
        }
        for key in string_data.keys().filter(|k| data.contains_key(*k)) {
            warnings.push(format!(
                "Secret {:?}: the key {key:?} is in both stringData and data (from binaryFiles); the API server keeps the stringData value",
                s.metadata.name
            ));
        }
        objects.push(secret_node(s, &string_data, &data));
    }
    Ok(Output {
        objects,
        opened_by: done.opened_by(),
        warnings,
    })
}

/// The Secret, fields in KSOPS's (alphabetical) order.
fn secret_node(
    s: &SecretFrom,
    string_data: &BTreeMap<String, (SecretBytes, String)>,
    data: &BTreeMap<String, (String, String)>,
) -> Node {
    let m = &s.metadata;
    let pairs = |v: &[(String, String)]| sorted_map(v.iter().map(|(k, v)| (k.as_str(), text(v))));
    let mut meta = Vec::new();
    if !m.annotations.is_empty() {
        meta.push(("annotations", pairs(&m.annotations)));
    }
    if !m.labels.is_empty() {
        meta.push(("labels", pairs(&m.labels)));
    }
    meta.push(("name", text(&m.name)));
    if !m.namespace.is_empty() {
        meta.push(("namespace", text(&m.namespace)));
    }
    let mut fields = vec![("apiVersion", text("v1"))];
    if !data.is_empty() {
        fields.push((
            "data",
            sorted_map(data.iter().map(|(k, (v, _))| (k.as_str(), text(v)))),
        ));
    }
    fields.push(("kind", text("Secret")));
    fields.push(("metadata", ordered(meta)));
    if !string_data.is_empty() {
        fields.push((
            "stringData",
            sorted_map(
                string_data
                    .iter()
                    .map(|(k, (v, _))| (k.as_str(), crate::yaml::emit::string_node(v.as_bytes()))),
            ),
        ));
    }
    if !s.secret_type.is_empty() {
        fields.push(("type", text(&s.secret_type)));
    }
    ordered(fields)
}

fn ordered(fields: Vec<(&str, Node)>) -> Node {
    Node::map(fields.into_iter().map(|(k, v)| Node::entry(k, v)).collect())
}
