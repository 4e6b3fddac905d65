//! The oracle: kustomize itself. Each tree under `testdata/kustomize/` (and
//! the JupyterHub example) is built twice with `kubectl kustomize
//! --enable-alpha-plugins`: once through krm-sops as a legacy exec plugin,
//! and once as a twin whose SopsGenerator configs are replaced by native
//! `secretGenerator` entries over what the real `sops decrypt` prints. The two
//! builds must be identical, hash suffixes included. Skipped (with a message)
//! without kubectl or sops, never when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use krm_sops::config::{Behavior, Config, Origin, SecretEntry, SopsGenerator};
use krm_sops::secret::parse_file_source;
use krm_sops::yaml::emit::{Options, emit_documents, string_node};
use krm_sops::yaml::resolve::{Resolved, resolve};
use krm_sops::yaml::{Entry, Node, SeqItem, Style, Value, parse_stream};

use crate::common::{TempDir, bin, copy_tree, keys, root, testdata, tools};

fn tools_available() -> bool {
    tools(&[("kubectl", "--help"), ("sops", "--version")], "oracle")
}

/// Key variables of a case: `case.env` lines with `$KEYS` expanded, plus `BUILD`.
fn case_env(dir: &Path) -> (String, Vec<(String, String)>) {
    let text = std::fs::read_to_string(dir.join("case.env")).unwrap_or_default();
    let mut build = ".".to_string();
    let mut env = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.replace("$KEYS", &keys().display().to_string());
        if k == "BUILD" {
            build = v;
        } else {
            env.push((k.to_string(), v));
        }
    }
    (build, env)
}

fn kustomize(dir: &Path, env: &[(String, String)], plugin_home: Option<&Path>) -> String {
    let mut c = Command::new("kubectl");
    c.args(["kustomize", "--enable-alpha-plugins"]).arg(dir);
    c.env("KRM_SOPS_GPG", "off");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(h) = plugin_home {
        c.env("KUSTOMIZE_PLUGIN_HOME", h);
    }
    let out = c.output().expect("run kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn sops_decrypt(file: &Path, env: &[(String, String)], output_type: Option<&str>) -> Vec<u8> {
    let mut c = Command::new("sops");
    c.arg("decrypt");
    if let Some(t) = output_type {
        c.args(["--output-type", t]);
    }
    c.arg(file);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run sops");
    assert!(
        out.status.success(),
        "sops decrypt {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A YAML/JSON envs file as the dotenv the generator's rule makes of it.
fn flat_map_as_dotenv(json: &[u8]) -> String {
    let text = String::from_utf8_lossy(json);
    let docs = parse_stream(&text).expect("sops JSON output parses");
    let mut out = String::new();
    if let Some(Node {
        value: Value::Map { entries, .. },
        ..
    }) = docs.first().and_then(|d| d.root.as_ref())
    {
        for e in entries {
            let k = e.key.as_scalar().expect("key");
            let Value::Scalar { text, style } = &e.value.value else {
                panic!("flat map")
            };
            let v = match resolve(text, *style, None).expect("scalar") {
                Resolved::Str(s) => s,
                Resolved::Bool(b) => b.to_string(),
                Resolved::Int(i) => i.to_string(),
                Resolved::Float(f) => format!("{f}"),
                other => panic!("unexpected {other:?}"),
            };
            out.push_str(&format!("{k}={v}\n"));
        }
    }
    out
}

fn s(v: &str) -> Node {
    string_node(v.as_bytes())
}

fn list(items: Vec<String>) -> Node {
    Node::seq(
        items
            .into_iter()
            .map(|v| SeqItem {
                comments: vec![],
                node: s(&v),
            })
            .collect(),
    )
}

/// The native secretGenerator entry equivalent to one SopsGenerator entry.
fn native_entry(e: &SecretEntry, dir: &Path, n: &mut usize, env: &[(String, String)]) -> Node {
    let mut fields = vec![Node::entry("name", s(&e.name))];
    if let Some(ns) = &e.namespace {
        fields.push(Node::entry("namespace", s(ns)));
    }
    match e.behavior {
        Behavior::Create => {}
        Behavior::Merge => fields.push(Node::entry("behavior", s("merge"))),
        Behavior::Replace => fields.push(Node::entry("behavior", s("replace"))),
    }
    fields.push(Node::entry("type", s(&e.secret_type)));
    let mut envs = Vec::new();
    for p in &e.envs {
        let src = dir.join(p);
        *n += 1;
        let plain = format!("twin-{n}.env");
        let text = if p.ends_with(".yaml") || p.ends_with(".yml") || p.ends_with(".json") {
            flat_map_as_dotenv(&sops_decrypt(&src, env, Some("json"))).into_bytes()
        } else {
            sops_decrypt(&src, env, None)
        };
        std::fs::write(dir.join(&plain), text).expect("write twin env");
        envs.push(plain);
    }
    if !envs.is_empty() {
        fields.push(Node::entry("envs", list(envs)));
    }
    if !e.literals.is_empty() {
        fields.push(Node::entry("literals", list(e.literals.clone())));
    }
    let mut files = Vec::new();
    for f in &e.files {
        let (key, p) = parse_file_source(f).expect("file source");
        *n += 1;
        let plain = format!("twin-{n}.plain");
        std::fs::write(dir.join(&plain), sops_decrypt(&dir.join(&p), env, None))
            .expect("write twin file");
        files.push(format!("{key}={plain}"));
    }
    if !files.is_empty() {
        fields.push(Node::entry("files", list(files)));
    }
    let o = &e.options;
    let map = |m: &std::collections::BTreeMap<String, String>| {
        Node::map(
            m.iter()
                .map(|(k, v)| Entry {
                    comments: vec![],
                    key: s(k),
                    value: s(v),
                })
                .collect(),
        )
    };
    let bool_node = |b: bool| Node::scalar(if b { "true" } else { "false" }, Style::Plain);
    fields.push(Node::entry(
        "options",
        Node::map(vec![
            Node::entry("labels", map(&o.labels)),
            Node::entry("annotations", map(&o.annotations)),
            Node::entry(
                "disableNameSuffixHash",
                bool_node(o.disable_name_suffix_hash),
            ),
            Node::entry("immutable", bool_node(o.immutable)),
        ]),
    ));
    Node::map(fields)
}

/// Rewrites every kustomization.yaml under `dir`: SopsGenerator configs become native entries.
fn make_twin(dir: &Path, env: &[(String, String)], n: &mut usize) {
    for e in std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        if e.path().is_dir() {
            make_twin(&e.path(), env, n);
        }
    }
    let kpath = dir.join("kustomization.yaml");
    let Ok(text) = std::fs::read_to_string(&kpath) else {
        return;
    };
    let docs = parse_stream(&text).expect("kustomization parses");
    let Some(mut root) = docs.into_iter().next().and_then(|d| d.root) else {
        return;
    };
    let Value::Map { entries, .. } = &mut root.value else {
        return;
    };
    let gens: Vec<String> = entries
        .iter()
        .find(|e| e.key.as_scalar() == Some("generators"))
        .and_then(|e| match &e.value.value {
            Value::Seq { items, .. } => Some(
                items
                    .iter()
                    .filter_map(|i| i.node.as_scalar().map(String::from))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let mut keep_gens = Vec::new();
    let mut native = Vec::new();
    let mut resources = Vec::new();
    for g in gens {
        let cfg_text = std::fs::read_to_string(dir.join(&g)).expect("generator config");
        match Config::parse(&cfg_text, &Origin { file: g.clone() }) {
            Ok(Config::Sops(SopsGenerator {
                secrets,
                resources: res,
                ..
            })) => {
                for e in &secrets {
                    native.push(native_entry(e, dir, n, env));
                }
                for r in res {
                    *n += 1;
                    let plain = format!("twin-{n}.yaml");
                    std::fs::write(dir.join(&plain), sops_decrypt(&dir.join(&r), env, None))
                        .expect("write twin manifest");
                    resources.push(plain);
                }
            }
            _ => keep_gens.push(g),
        }
    }
    entries.retain(|e| !matches!(e.key.as_scalar(), Some("generators")));
    if !keep_gens.is_empty() {
        entries.push(Node::entry("generators", list(keep_gens)));
    }
    let append = |entries: &mut Vec<Entry>, key: &str, extra: Vec<Node>| {
        if extra.is_empty() {
            return;
        }
        if let Some(e) = entries.iter_mut().find(|e| e.key.as_scalar() == Some(key))
            && let Value::Seq { items, .. } = &mut e.value.value
        {
            items.extend(extra.into_iter().map(|node| SeqItem {
                comments: vec![],
                node,
            }));
            return;
        }
        entries.push(Node::entry(
            key,
            Node::seq(
                extra
                    .into_iter()
                    .map(|node| SeqItem {
                        comments: vec![],
                        node,
                    })
                    .collect(),
            ),
        ));
    };
    append(entries, "secretGenerator", native);
    append(
        entries,
        "resources",
        resources.iter().map(|r| s(r)).collect(),
    );
    std::fs::write(&kpath, emit_documents(&[root], &Options::kubernetes()))
        .expect("write twin kustomization");
}

fn oracle_case(tree: &Path, build: &str, env: &[(String, String)]) {
    let tmp = TempDir::new("oracle");
    let home = tmp.path().join("plugin/krm-sops.dev/v1/sopsgenerator");
    std::fs::create_dir_all(&home).expect("plugin dir");
    std::os::unix::fs::symlink(bin(), home.join("SopsGenerator")).expect("plugin link");
    let plugin_tree = tmp.path().join("plugin-tree");
    let twin_tree = tmp.path().join("twin-tree");
    copy_tree(tree, &plugin_tree);
    copy_tree(tree, &twin_tree);
    let through_plugin = kustomize(
        &plugin_tree.join(build),
        env,
        Some(&tmp.path().join("plugin")),
    );
    let mut n = 0;
    make_twin(&twin_tree, env, &mut n);
    let native = kustomize(&twin_tree.join(build), env, None);
    assert!(
        through_plugin.contains("kind: Secret"),
        "no Secret generated for {}",
        tree.display()
    );
    assert_eq!(
        through_plugin,
        native,
        "{}: the plugin build differs from the native secretGenerator build",
        tree.display()
    );
}

#[test]
fn generated_secrets_equal_native_secret_generator_output() {
    if !tools_available() {
        return;
    }
    let dir = testdata().join("kustomize");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/kustomize")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no oracle cases");
    for case in cases {
        let (build, env) = case_env(&case);
        oracle_case(&case, &build, &env);
    }
}

#[test]
fn the_jupyterhub_example_equals_its_native_twin() {
    if !tools_available() {
        return;
    }
    let ex = root().join("examples/jupyterhub");
    let key = std::fs::read_to_string(ex.join("keys/pgp.sec.asc")).expect("example key");
    let tmp = TempDir::new("gnupg");
    // sops (for the twin) reads PGP keys from a keyring; krm-sops from the variable.
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).expect("gnupg");
    let imported = Command::new("gpg")
        .args(["--batch", "--quiet", "--import"])
        .arg(ex.join("keys/pgp.sec.asc"))
        .env("GNUPGHOME", &gnupg)
        .output()
        .expect("gpg");
    assert!(imported.status.success());
    let env = vec![
        ("SOPS_PGP_PRIVATE_KEY".to_string(), key),
        ("GNUPGHOME".to_string(), gnupg.display().to_string()),
    ];
    oracle_case(&ex, "overlays/ldap-auth", &env);
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &gnupg)
        .output();
}
