//! Running a generator configuration: from a config to Kubernetes objects.
//!
//! Paths are resolved under the kustomization root (the working directory)
//! with kustomize's default load restriction: no absolute paths, nothing that
//! leaves the root through `..` or a symlink (`KRM_SOPS_LOAD_RESTRICTOR=none`
//! lifts it). Every referenced file is read and decrypted once, on all cores,
//! with one shared keyring (so a PGP key is parsed and unlocked once per run);
//! then each `secretGenerator` entry becomes a Secret and each `resources`
//! file its decrypted documents. Nothing is written to disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{Config, SecretEntry, SopsGenerator};
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::secret::{parse_env_file, parse_file_source, parse_literal, secret_node};
use crate::sops::store::{self, Format};
use crate::sops::tree::{Branch, SecretBytes, Value};
use crate::sops::{self, Decrypted};
use crate::yaml::Node;

/// The directory paths are relative to, and whether they must stay inside it.
pub struct Root {
    dir: PathBuf,
    restrict: bool,
}

impl Root {
    /// The working directory; `restrict_by_default` applies unless
    /// `KRM_SOPS_LOAD_RESTRICTOR` says `none` or `rootonly` (kustomize's
    /// `LoadRestrictionsNone` / `LoadRestrictionsRootOnly` are accepted too).
    pub fn current_or(restrict_by_default: bool) -> Result<Root> {
        let cwd =
            std::env::current_dir().map_err(|e| Error::io(".", "use the working directory", e))?;
        let restrict = match std::env::var("KRM_SOPS_LOAD_RESTRICTOR") {
            Ok(v) if v.eq_ignore_ascii_case("none") || v == "LoadRestrictionsNone" => false,
            Ok(v) if v.eq_ignore_ascii_case("rootonly") || v == "LoadRestrictionsRootOnly" => true,
            Ok(v) if !v.is_empty() => {
                return Err(Error::usage(format!(
                    "KRM_SOPS_LOAD_RESTRICTOR={v:?} is not one of rootonly, none"
                )));
            }
            _ => restrict_by_default,
        };
        Root::new(&cwd, restrict)
    }

    pub fn new(dir: &Path, restrict: bool) -> Result<Root> {
        let dir = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, "resolve", e))?;
        Ok(Root { dir, restrict })
    }

    /// Resolves `rel` for reading, applying the load restriction.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        if self.restrict && p.is_absolute() {
            return Err(Error::Restricted {
                file: rel.into(),
                reason: "absolute paths are refused; give a path relative to the kustomization directory".into(),
            });
        }
        let joined = self.dir.join(p);
        let real = std::fs::canonicalize(&joined).map_err(|e| Error::io(rel, "read", e))?;
        if self.restrict && !real.starts_with(&self.dir) {
            return Err(Error::Restricted {
                file: rel.into(),
                reason: format!(
                    "the file is not in or below the kustomization directory {} (it leaves it through `..` or a symlink)",
                    self.dir.display()
                ),
            });
        }
        if real.is_dir() {
            return Err(Error::io(
                rel,
                "read",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is a directory, not a file",
                ),
            ));
        }
        Ok(real)
    }
}

/// The format of an encrypted file: its extension, as sops decides, unless
/// the content says otherwise for extensions sops would call binary.
fn detect_format(rel: &str, bytes: &[u8]) -> Format {
    let by_ext = Format::from_path(rel);
    if by_ext != Format::Binary {
        return by_ext;
    }
    let head = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| bytes[i]);
    if head == Some(b'{') {
        Format::Binary
    } else if bytes.starts_with(b"sops_") || bytes.windows(6).any(|w| w == b"\nsops_") {
        Format::Dotenv
    } else {
        Format::Yaml
    }
}

/// Reads and decrypts one file.
fn decrypt_file(rel: &str, root: &Root, keyring: &Keyring) -> Result<(Format, Decrypted)> {
    let path = root.resolve(rel)?;
    // Errors name the file as the config does, not the resolved path.
    let bytes = crate::cli::read_input(&path.to_string_lossy()).map_err(|e| match e {
        Error::Io { action, source, .. } => Error::Io {
            file: rel.into(),
            action,
            source,
        },
        Error::Malformed { what, .. } => Error::malformed(rel, what),
        other => other,
    })?;
    let format = detect_format(rel, &bytes);
    let d = sops::decrypt(rel, &bytes, format, keyring)?;
    Ok((format, d))
}

/// Decrypts every distinct path on all cores; results come back in `rels` order.
fn decrypt_all(
    rels: &[&str],
    root: &Root,
    keyring: &Keyring,
    max_threads: usize,
) -> Vec<Result<(Format, Decrypted)>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(max_threads)
        .min(rels.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<(Format, Decrypted)>>> =
        (0..rels.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rel) = rels.get(i) else { break };
                        done.push((i, decrypt_file(rel, root, keyring)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    slots[i] = Some(r);
                }
            }
        }
    });
    slots
        .into_iter()
        .zip(rels)
        .map(|(r, rel)| {
            r.unwrap_or_else(|| {
                Err(Error::malformed(
                    rel,
                    "internal error: decryption did not complete",
                ))
            })
        })
        .collect()
}

/// The files a configuration names, each to be decrypted once, with every
/// place that names it (to report the first failing reference in config order).
#[derive(Default)]
pub struct Plan<'a> {
    rels: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
    uses: Vec<(usize, String)>,
    max_threads: Option<usize>,
}

impl<'a> Plan<'a> {
    pub fn new() -> Plan<'a> {
        Plan::default()
    }

    /// At most `n` files decrypted at once (default: one per core).
    pub fn max_threads(&mut self, n: usize) {
        self.max_threads = Some(n.max(1));
    }

    /// Notes that `ctx` (e.g. `secretGenerator[0] (s): files[1]`) names `path`.
    pub fn add(&mut self, path: &'a str, ctx: String) {
        let i = *self.index.entry(path).or_insert_with(|| {
            self.rels.push(path);
            self.rels.len() - 1
        });
        self.uses.push((i, ctx));
    }

    /// Decrypts everything; the first failure (in the order of `add`) wins.
    pub fn run(self, root: &Root, keyring: &Keyring) -> Result<Decryptions<'a>> {
        let mut results = decrypt_all(
            &self.rels,
            root,
            keyring,
            self.max_threads.unwrap_or(usize::MAX),
        );
        for (i, ctx) in &self.uses {
            if results[*i].is_err() {
                let failed = std::mem::replace(&mut results[*i], Err(Error::usage("")));
                if let Err(e) = failed {
                    return Err(e.within(ctx.clone()));
                }
            }
        }
        Ok(Decryptions {
            decrypted: results.into_iter().filter_map(Result::ok).collect(),
            rels: self.rels,
            index: self.index,
        })
    }
}

/// The decrypted files of a [`Plan`].
pub struct Decryptions<'a> {
    rels: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
    decrypted: Vec<(Format, Decrypted)>,
}

impl Decryptions<'_> {
    /// The format and content of a file passed to [`Plan::add`].
    pub fn get(&self, path: &str) -> Result<&(Format, Decrypted)> {
        self.index
            .get(path)
            .and_then(|&i| self.decrypted.get(i))
            .ok_or_else(|| Error::malformed(path, "internal error: the file was not decrypted"))
    }

    /// The plaintext of a file as `sops decrypt` prints it.
    pub fn text(&self, path: &str) -> Result<SecretBytes> {
        let (format, d) = self.get(path)?;
        store::emit(*format, &d.docs)
            .map(SecretBytes::new)
            .map_err(|what| Error::Output {
                file: path.into(),
                what,
            })
    }

    /// `file: data key opened by …` lines for `--verbose`.
    pub fn opened_by(&self) -> Vec<String> {
        self.rels
            .iter()
            .zip(&self.decrypted)
            .flat_map(|(rel, (_, d))| {
                d.opened_by
                    .iter()
                    .map(move |by| format!("{rel}: data key opened by {by}"))
            })
            .collect()
    }
}

/// The key/value pairs of an `envs` file (dotenv, or a flat YAML/JSON map of scalars).
fn env_pairs(rel: &str, format: Format, d: &Decrypted) -> Result<Vec<(String, SecretBytes)>> {
    let bad = |what: String| Error::malformed(rel, what);
    match format {
        Format::Dotenv | Format::Binary => {
            let text = store::emit(format, &d.docs).map_err(bad)?;
            parse_env_file(&text).map_err(bad)
        }
        Format::Ini => Err(bad(
            "envs takes dotenv, YAML or JSON files; list an INI file under `files` instead".into(),
        )),
        Format::Yaml | Format::Json => {
            let docs: Vec<&Branch> = d
                .docs
                .iter()
                .filter(|b| b.entries().next().is_some())
                .collect();
            if docs.len() > 1 {
                return Err(bad(
                    "an envs file must hold one document with a flat map".into()
                ));
            }
            let mut out = Vec::new();
            for (k, v) in docs
                .first()
                .map(|b| b.entries().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let s = match v {
                    Value::Str(s) => s.clone(),
                    Value::Bool(b) => SecretBytes::from_text(&b.to_string()),
                    Value::Int(i) => SecretBytes::from_text(&i.to_string()),
                    Value::Uint(u) => SecretBytes::from_text(&u.to_string()),
                    Value::Float(f) if f.is_finite() => SecretBytes::from_text(&format!("{f}")),
                    Value::Time(t) => SecretBytes::from_text(&t.rfc3339_nano()),
                    Value::Null => {
                        return Err(bad(format!(
                            "the value of {k:?} is null; envs values must be strings, numbers or booleans"
                        )));
                    }
                    Value::Map(_) | Value::List(_) => {
                        return Err(bad(format!(
                            "the value of {k:?} is a {}; envs files must be a flat map of scalars (use `files` for structured data)",
                            if matches!(v, Value::Map(_)) {
                                "mapping"
                            } else {
                                "list"
                            }
                        )));
                    }
                    Value::Float(_) | Value::Comment(_) => {
                        return Err(bad(format!("the value of {k:?} cannot be a Secret value")));
                    }
                };
                out.push((k.to_string(), s));
            }
            Ok(out)
        }
    }
}

/// Decrypted documents of a `resources` file, as Kubernetes objects.
fn resource_objects(rel: &str, d: &Decrypted) -> Result<Vec<Node>> {
    let mut out = Vec::new();
    for (i, doc) in d.docs.iter().enumerate() {
        if doc.entries().next().is_none() {
            continue;
        }
        let text = |k: &str| match doc.get(k) {
            Some(Value::Str(s)) => s.as_str().map(str::to_string),
            _ => None,
        };
        let name = match doc.get("metadata") {
            Some(Value::Map(m)) => {
                matches!(m.get("name").or(m.get("generateName")), Some(Value::Str(s)) if !s.is_empty())
            }
            _ => false,
        };
        if text("apiVersion").is_none_or(|s| s.is_empty())
            || text("kind").is_none_or(|s| s.is_empty())
            || !name
        {
            return Err(Error::malformed(
                rel,
                format!(
                    "document {} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)",
                    i + 1
                ),
            ));
        }
        out.push(sops::store::yaml::kubernetes_node(doc));
    }
    Ok(out)
}

/// Everything a generator run produced.
pub struct Output {
    pub objects: Vec<Node>,
    /// `file: key description` lines for `--verbose`.
    pub opened_by: Vec<String>,
    /// Things that worked but are probably not what the user meant (printed
    /// on stderr; KRM results with `severity: warning`). Never secret values.
    pub warnings: Vec<String>,
}

/// One `secretGenerator` entry's sources, validated before any decryption.
struct Sources<'a> {
    entry: &'a SecretEntry,
    literals: Vec<(String, SecretBytes)>,
    files: Vec<(String, &'a str)>,
}

fn entry_context(g: &SopsGenerator, i: usize, e: &SecretEntry) -> String {
    format!(
        "SopsGenerator {}: secretGenerator[{i}] ({})",
        g.name, e.name
    )
}

fn run_sops(g: &SopsGenerator, root: &Root, keyring: &Keyring, origin: &str) -> Result<Output> {
    let mut sources = Vec::new();
    for (i, e) in g.secrets.iter().enumerate() {
        let ctx = entry_context(g, i, e);
        let literals = e
            .literals
            .iter()
            .enumerate()
            .map(|(j, l)| {
                parse_literal(l).map_err(|why| {
                    Error::config(
                        origin,
                        format!("{ctx}: literals[{j}]"),
                        format!("the literal {why}"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let files = e
            .files
            .iter()
            .enumerate()
            .map(|(j, f)| {
                parse_file_source(f)
                    .map(|(k, p)| (k, &f[f.len() - p.len()..]))
                    .map_err(|why| {
                        Error::config(origin, format!("{ctx}: files[{j}]"), format!("{f:?} {why}"))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        sources.push(Sources {
            entry: e,
            literals,
            files,
        });
    }

    let mut plan = Plan::new();
    for (i, s) in sources.iter().enumerate() {
        let ctx = entry_context(g, i, s.entry);
        for (j, p) in s.entry.envs.iter().enumerate() {
            plan.add(p, format!("{ctx}: envs[{j}]"));
        }
        for (j, (_, p)) in s.files.iter().enumerate() {
            plan.add(p, format!("{ctx}: files[{j}]"));
        }
    }
    for (j, p) in g.resources.iter().enumerate() {
        plan.add(p, format!("SopsGenerator {}: resources[{j}]", g.name));
    }
    let done = plan.run(root, keyring)?;

    let mut objects = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let ctx = entry_context(g, i, s.entry);
        let mut data: BTreeMap<String, SecretBytes> = BTreeMap::new();
        let mut origin_of: HashMap<String, String> = HashMap::new();
        let mut add = |k: String, v: SecretBytes, from: String| -> Result<()> {
            if let Some(first) = origin_of.get(&k) {
                return Err(Error::config(
                    origin,
                    ctx.clone(),
                    format!(
                        "the key {k:?} appears twice ({first} and {from}); kustomize refuses repeated keys"
                    ),
                ));
            }
            origin_of.insert(k.clone(), from);
            data.insert(k, v);
            Ok(())
        };
        for (j, rel) in s.entry.envs.iter().enumerate() {
            let (format, d) = done.get(rel)?;
            let pairs =
                env_pairs(rel, *format, d).map_err(|e| e.within(format!("{ctx}: envs[{j}]")))?;
            for (k, v) in pairs {
                add(k, v, format!("envs[{j}] {rel}"))?;
            }
        }
        for (j, (k, v)) in s.literals.iter().enumerate() {
            add(k.clone(), v.clone(), format!("literals[{j}]"))?;
        }
        for (j, (k, rel)) in s.files.iter().enumerate() {
            let text = done
                .text(rel)
                .map_err(|e| e.within(format!("{ctx}: files[{j}]")))?;
            add(k.clone(), text, format!("files[{j}] {rel}"))?;
        }
        objects.push(secret_node(s.entry, &data));
    }
    for (j, rel) in g.resources.iter().enumerate() {
        let ctx = format!("SopsGenerator {}: resources[{j}]", g.name);
        let (_, d) = done.get(rel)?;
        objects.extend(resource_objects(rel, d).map_err(|e| e.within(ctx))?);
    }
    Ok(Output {
        objects,
        opened_by: done.opened_by(),
        warnings: Vec::new(),
    })
}

/// Runs any supported configuration in the working directory (the
/// kustomization root), restricting paths as the configuration's kind asks.
pub fn run(config: &Config, keyring: &Keyring, origin: &str) -> Result<Output> {
    let root = &Root::current_or(config.restricts_paths())?;
    match config {
        Config::Sops(g) => run_sops(g, root, keyring, origin),
        Config::Ksops(k) => crate::compat::ksops::run(k, root, keyring, origin),
        Config::Ssg(g) => crate::compat::ssg::run(g, root, keyring, origin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_detection_sniffs_unknown_extensions() {
        assert_eq!(detect_format("a.sops.yaml", b"x"), Format::Yaml);
        assert_eq!(detect_format("cert.pem", b" {\"data\": 1}"), Format::Binary);
        assert_eq!(
            detect_format("secrets", b"A=ENC[x]\nsops_version=3\n"),
            Format::Dotenv
        );
        assert_eq!(detect_format("secrets", b"a: 1\nsops:\n"), Format::Yaml);
    }

    #[test]
    fn the_restrictor_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("krm-sops-root-{}", std::process::id()));
        let inside = dir.join("root");
        std::fs::create_dir_all(inside.join("sub")).unwrap();
        std::fs::write(inside.join("sub/in.txt"), "x").unwrap();
        std::fs::write(dir.join("outside.txt"), "x").unwrap();
        let _ = std::os::unix::fs::symlink(dir.join("outside.txt"), inside.join("link-out"));
        let root = Root::new(&inside, true).unwrap();
        assert!(root.resolve("sub/in.txt").is_ok());
        assert!(root.resolve("sub/../sub/in.txt").is_ok());
        for bad in ["../outside.txt", "link-out", "/etc/hostname"] {
            let e = root.resolve(bad).unwrap_err();
            assert!(matches!(e, Error::Restricted { .. }), "{bad}: {e}");
        }
        assert!(matches!(root.resolve("sub"), Err(Error::Io { .. })));
        assert!(matches!(root.resolve("missing"), Err(Error::Io { .. })));
        let open = Root::new(&inside, false).unwrap();
        assert!(open.resolve("../outside.txt").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
