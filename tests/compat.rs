//! Drop-in compatibility with KSOPS and SopsSecretGenerator: every case
//! under `testdata/compat/` (built by `regenerate.py compat` from
//! `testdata/plaintexts/compat/`) runs three ways:
//!
//! 1. as a legacy exec plugin (`krm-sops config.yaml`): the objects must equal
//!    what the original tool printed (`original.yaml`) — as values, not text
//!    layout — or, where we deliberately differ, `krm-sops.yaml`; refusals are
//!    checked against `errors.txt`; stderr must match `warnings.txt` (and be
//!    empty without it); the exact text is an `expected.yaml` snapshot;
//! 2. as a KRM function, fed the way kustomize feeds it (config as
//!    functionConfig and as a local-config item): the same objects, as a set;
//! 3. through `kubectl kustomize --enable-alpha-plugins` with the plugin
//!    paths `krm-sops install` lays out: the final names must be
//!    `kustomize-names.txt`, whose hash suffixes were computed from the
//!    original tool's objects — so equal values give equal names.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use krm_sops::yaml::emit::{Options, emit_documents, string_node};
use krm_sops::yaml::resolve::{Resolved, resolve};
use krm_sops::yaml::{Node, SeqItem, Value, parse_stream};

use crate::common::{
    TempDir, assert_no_secret_in, bin, check_errors, hermetic, keys, run_case_dirs, testdata, tools,
};

/// A YAML value with layout, comments and key order gone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Canon {
    Null,
    Bool(bool),
    Int(i128),
    Float(String),
    Str(String),
    Seq(Vec<Canon>),
    Map(BTreeMap<String, Canon>),
}

fn canon(n: &Node) -> Canon {
    match &n.value {
        Value::Scalar { text, style } => match resolve(text, *style, n.tag.as_deref()) {
            Ok(Resolved::Null) => Canon::Null,
            Ok(Resolved::Bool(b)) => Canon::Bool(b),
            Ok(Resolved::Int(i)) => Canon::Int(i.into()),
            Ok(Resolved::Uint(u)) => Canon::Int(u.into()),
            Ok(Resolved::Float(f)) => Canon::Float(f.to_string()),
            _ => Canon::Str(text.clone()),
        },
        Value::Seq { items, .. } => Canon::Seq(items.iter().map(|i| canon(&i.node)).collect()),
        Value::Map { entries, .. } => Canon::Map(
            entries
                .iter()
                .map(|e| {
                    (
                        e.key.as_scalar().unwrap_or("?").to_string(),
                        canon(&e.value),
                    )
                })
                .collect(),
        ),
        Value::Alias(a) => Canon::Str(format!("*{a}")),
    }
}

fn objects(text: &str, what: &str) -> Vec<Canon> {
    parse_stream(text)
        .unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
        .iter()
        .filter_map(|d| d.root.as_ref())
        .map(canon)
        .collect()
}

/// What we must emit: `krm-sops.yaml` where we differ on purpose, else what the original printed.
fn wanted(dir: &Path) -> Option<Vec<Canon>> {
    ["krm-sops.yaml", "original.yaml"].iter().find_map(|f| {
        std::fs::read_to_string(dir.join(f))
            .ok()
            .map(|t| objects(&t, &format!("{}/{f}", dir.display())))
    })
}

fn env_of(dir: &Path, cmd: &mut Command) {
    let env = std::fs::read_to_string(dir.join("case.env")).unwrap_or_default();
    for line in env.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once('=').expect("case.env KEY=VALUE");
        cmd.env(k, v.replace("$KEYS", &keys().display().to_string()));
    }
}

fn check_warnings(dir: &Path, stderr: &str) -> Result<(), String> {
    let Ok(patterns) = std::fs::read_to_string(dir.join("warnings.txt")) else {
        return if stderr.is_empty() {
            Ok(())
        } else {
            Err(format!("unexpected stderr (no warnings.txt):\n{stderr}"))
        };
    };
    for p in patterns.lines().filter(|l| !l.trim().is_empty()) {
        let re = regex::Regex::new(p).map_err(|e| format!("warnings.txt: {p:?}: {e}"))?;
        if !re.is_match(stderr) {
            return Err(format!("stderr does not match {p:?}:\n{stderr}"));
        }
    }
    if stderr
        .lines()
        .any(|l| !l.starts_with("krm-sops: warning: "))
    {
        return Err(format!("stderr holds more than warnings:\n{stderr}"));
    }
    Ok(())
}

fn legacy(dir: &Path) -> Result<(), String> {
    let tmp = TempDir::new("compat");
    let mut cmd = hermetic(&tmp);
    env_of(dir, &mut cmd);
    let out = cmd
        .current_dir(dir)
        .arg("config.yaml")
        .output()
        .map_err(|e| e.to_string())?;
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if dir.join("errors.txt").exists() {
        if !out.stdout.is_empty() {
            return Err("refused but printed on stdout".into());
        }
        return check_errors(dir, out.status.code(), &stderr);
    }
    if !out.status.success() {
        return Err(format!("exit {:?}:\n{stderr}", out.status.code()));
    }
    check_warnings(dir, &stderr)?;
    let stdout = String::from_utf8(out.stdout).map_err(|_| "stdout is not UTF-8")?;
    let want = wanted(dir).ok_or("no original.yaml, krm-sops.yaml or errors.txt")?;
    let got = objects(&stdout, "stdout");
    if got != want {
        return Err(format!(
            "objects differ from the original tool's:\n--- want\n{want:#?}\n--- got\n{got:#?}"
        ));
    }
    snapshot(dir, &stdout)
}

/// Exact text, as a snapshot (`KRM_SOPS_BLESS=1` rewrites it).
fn snapshot(dir: &Path, got: &str) -> Result<(), String> {
    let path = dir.join("expected.yaml");
    if std::env::var("KRM_SOPS_BLESS").as_deref() == Ok("1") {
        return std::fs::write(&path, got).map_err(|e| e.to_string());
    }
    let want = std::fs::read_to_string(&path)
        .map_err(|e| format!("expected.yaml: {e} (bless with KRM_SOPS_BLESS=1)"))?;
    if want != got {
        return Err(format!(
            "output differs from the expected.yaml snapshot:\n--- expected\n{want}\n--- got\n{got}"
        ));
    }
    Ok(())
}

/// The mapping under `key` in mapping `n`, created (or replacing a null) as needed.
fn map_at<'a>(n: &'a mut Node, key: &str) -> &'a mut Node {
    let Value::Map { entries, .. } = &mut n.value else {
        panic!("not a mapping");
    };
    let i = match entries.iter().position(|e| e.key.as_scalar() == Some(key)) {
        Some(i) => i,
        None => {
            entries.push(Node::entry(key, Node::map(Vec::new())));
            entries.len() - 1
        }
    };
    let v = &mut entries[i].value;
    if v.is_null() {
        *v = Node::map(Vec::new());
    }
    v
}

/// The ResourceList kustomize sends a generator: config as functionConfig and as an item.
fn resource_list(config: &Node) -> String {
    let mut item = config.clone();
    let annotations = map_at(map_at(&mut item, "metadata"), "annotations");
    if let Value::Map { entries, .. } = &mut annotations.value {
        entries.push(Node::entry(
            "config.kubernetes.io/local-config",
            string_node(b"true"),
        ));
    }
    let rl = Node::map(vec![
        Node::entry("apiVersion", string_node(b"config.kubernetes.io/v1")),
        Node::entry("kind", string_node(b"ResourceList")),
        Node::entry(
            "items",
            Node::seq(vec![SeqItem {
                comments: vec![],
                node: item,
            }]),
        ),
        Node::entry("functionConfig", config.clone()),
    ]);
    emit_documents(&[rl], &Options::kubernetes())
}

fn krm(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("config.yaml")).map_err(|e| e.to_string())?;
    let docs = parse_stream(&text).map_err(|e| e.to_string())?;
    let config = docs
        .iter()
        .find_map(|d| d.root.clone())
        .ok_or("empty config")?;
    let tmp = TempDir::new("compat-krm");
    let mut cmd = hermetic(&tmp);
    env_of(dir, &mut cmd);
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(resource_list(&config).as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    assert_no_secret_in(&out.stderr, &dir.display().to_string());
    assert_no_secret_in(
        &out.stdout
            .split(|&b| b == b'\n')
            .skip_while(|l| *l != b"results:")
            .flatten()
            .copied()
            .collect::<Vec<u8>>(),
        "KRM results",
    );
    let stdout = String::from_utf8(out.stdout).map_err(|_| "stdout is not UTF-8")?;
    let rl = objects(&stdout, "KRM stdout");
    let Some(Canon::Map(rl)) = rl.first() else {
        return Err(format!("not a ResourceList:\n{stdout}"));
    };
    let items = match rl.get("items") {
        Some(Canon::Seq(items)) => items.clone(),
        _ => return Err(format!("no items:\n{stdout}")),
    };
    if dir.join("errors.txt").exists() {
        if out.status.code() != Some(1) || !stdout.contains("severity: error") {
            return Err(format!(
                "a refusal must exit 1 with an error result:\n{stdout}"
            ));
        }
        return Ok(());
    }
    if !out.status.success() || stdout.contains("severity: error") {
        return Err(format!(
            "exit {:?}:\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let (mut got, mut want) = (items, wanted(dir).ok_or("no expected objects")?);
    got.sort();
    want.sort();
    if got != want {
        return Err(format!(
            "KRM items differ:\n--- want\n{want:#?}\n--- got\n{got:#?}"
        ));
    }
    Ok(())
}

fn run_all(case: &dyn Fn(&Path) -> Result<(), String>) {
    run_case_dirs(&testdata().join("compat"), case);
}

#[test]
fn legacy_plugin_matches_the_original_tools() {
    run_all(&legacy);
}

#[test]
fn krm_function_matches_the_original_tools() {
    run_all(&krm);
}

#[test]
fn kustomize_builds_give_the_original_tools_names() {
    if !tools(&[("kubectl", "--help")], "compat") {
        return;
    }
    let tmp = TempDir::new("compat-kustomize");
    let plugins = tmp.path().join("plugin");
    let out = Command::new(bin())
        .arg("install")
        .arg(&plugins)
        .output()
        .expect("krm-sops install");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = std::cell::Cell::new(0);
    run_all(&|dir: &Path| {
        let Ok(names) = std::fs::read_to_string(dir.join("kustomize-names.txt")) else {
            return Ok(());
        };
        let mut cmd = Command::new("kubectl");
        env_of(dir, &mut cmd);
        let out = cmd
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(dir)
            .env("KUSTOMIZE_PLUGIN_HOME", &plugins)
            .env("KRM_SOPS_GPG", "off")
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "kubectl kustomize failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut got: Vec<String> = parse_stream(&text)
            .map_err(|e| e.to_string())?
            .iter()
            .filter_map(|d| d.root.as_ref())
            .filter_map(|o| {
                o.get("metadata")?
                    .get("name")?
                    .as_scalar()
                    .map(String::from)
            })
            .collect();
        got.sort();
        let want: Vec<&str> = names.lines().filter(|l| !l.is_empty()).collect();
        if got != want {
            return Err(format!("names {got:?}, want {want:?}:\n{text}"));
        }
        built.set(built.get() + 1);
        Ok(())
    });
    assert!(
        built.get() >= 20,
        "only {} compat trees were built",
        built.get()
    );
}

/// Without a functionConfig (KSOPS's and SopsSecretGenerator's own KRM
/// convention), every item of a kind we serve is a config; others pass through.
#[test]
fn items_of_our_kinds_are_configs_when_there_is_no_function_config() {
    let dir = testdata().join("compat/ksops-readme-envs");
    let config = std::fs::read_to_string(dir.join("config.yaml")).expect("config");
    let items: String = format!(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: untouched\n  data:\n    k: v\n{}",
        config
            .lines()
            .enumerate()
            .map(|(i, l)| format!("{}{l}\n", if i == 0 { "- " } else { "  " }))
            .collect::<String>()
    );
    let input = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}");
    let tmp = TempDir::new("compat-items");
    let mut cmd = hermetic(&tmp);
    env_of(&dir, &mut cmd);
    let mut child = cmd
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("name: untouched"), "{stdout}");
    assert!(stdout.contains("kind: Secret"), "{stdout}");
    assert!(
        !stdout.contains("kind: ksops"),
        "the config must not be echoed:\n{stdout}"
    );
}
