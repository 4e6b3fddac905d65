//! The recipes README.md gives, run here: the GitLab CI deploy job of the
//! JupyterHub example (`examples/jupyterhub/.gitlab-ci.yml` and
//! `ci/deploy.sh`), end to end up to the `kubectl apply`, with the key only
//! in the `GPG_PRIV_KEY` variable — no gpg keyring, no sops binary.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use krm_sops::yaml::{Node, Value, parse_stream};

use crate::common::{TempDir, bin, copy_tree, root, tools};

fn example() -> std::path::PathBuf {
    root().join("examples/jupyterhub")
}

/// `ci/deploy.sh MODE` in a copy of the example, the way the CI job runs it.
fn deploy_sh(tree: &Path, tmp: &TempDir, mode: &str, key: Option<&str>) -> std::process::Output {
    let bin_dir = bin().parent().expect("bin dir").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tmp.path().join("home");
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::create_dir_all(&gnupg).expect("gnupg");
    let mut c = Command::new(tree.join("ci/deploy.sh"));
    c.arg(mode)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("GNUPGHOME", &gnupg)
        .env("KUSTOMIZE", "kubectl");
    if let Some(k) = key {
        c.env("GPG_PRIV_KEY", k);
    }
    c.output().expect("run ci/deploy.sh")
}

fn secret_data<'a>(objects: &'a [Node], prefix: &str) -> Vec<(&'a str, Vec<u8>)> {
    let obj = objects
        .iter()
        .find(|o| {
            o.get("kind").and_then(Node::as_scalar) == Some("Secret")
                && o.get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_scalar)
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no Secret {prefix}*"));
    let Some(Value::Map { entries, .. }) = obj.get("data").map(|d| &d.value) else {
        panic!("{prefix}: no data");
    };
    entries
        .iter()
        .map(|e| {
            let v = e.value.as_scalar().unwrap_or_default().replace('\n', "");
            (
                e.key.as_scalar().unwrap_or_default(),
                base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .expect("base64"),
            )
        })
        .collect()
}

#[test]
fn gitlab_deploy_step_builds_the_example_from_the_ci_variable_alone() {
    if !tools(&[("kubectl", "--help")], "recipes") {
        return;
    }
    let tmp = TempDir::new("gitlab");
    let tree = tmp.path().join("repo");
    copy_tree(&example(), &tree);
    let key = std::fs::read_to_string(example().join("keys/pgp.sec.asc")).expect("key");
    let out = deploy_sh(&tree, &tmp, "build", Some(&key));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deploy.sh build failed:\n{stderr}");
    assert!(
        !stderr.contains("example-ldap-bind-password") && !stderr.contains("warning"),
        "{stderr}"
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let objects: Vec<Node> = parse_stream(&text)
        .expect("manifests")
        .into_iter()
        .filter_map(|d| d.root)
        .collect();
    let ldap = secret_data(&objects, "ldap-credentials-");
    assert!(
        ldap.iter()
            .any(|(k, v)| *k == "LDAP_BIND_PASSWORD" && v == b"example-ldap-bind-password"),
        "{ldap:?}"
    );
    let hub = secret_data(&objects, "hub-secret-");
    let keys: Vec<&str> = hub.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        ["hub.cookie-secret", "hub.ldap-bind-password", "proxy.token"],
        "the overlay merges the LDAP password into hub-secret"
    );
    // The seed's random proxy token and cookie secret: 64 hex digits, fresh per run.
    for (k, v) in &hub {
        if *k != "hub.ldap-bind-password" {
            assert_eq!(v.len(), 64, "{k}");
            assert!(v.iter().all(u8::is_ascii_hexdigit), "{k}");
        }
    }
    let registry = secret_data(&objects, "hub-image-credentials-");
    assert!(String::from_utf8_lossy(&registry[0].1).contains("registry.example.org"));
    assert!(text.contains("name: ldap-authenticator-config"), "{text}");
    assert!(text.contains("LDAPAuthenticator"), "{text}");
    // No keyring was touched: the GNUPGHOME the job had stays empty.
    assert_eq!(
        std::fs::read_dir(tmp.path().join("gnupg"))
            .expect("gnupg")
            .count(),
        0
    );

    // Without the CI variable the job stops before kustomize runs, saying why.
    let out = deploy_sh(&tree, &tmp, "build", None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GPG_PRIV_KEY"));
    // A wrong key fails the build (and so the pipeline), naming the file.
    let other = std::fs::read_to_string(root().join("testdata/keys/pgp/rsa2048.sec.asc"))
        .expect("other key");
    let out = deploy_sh(&tree, &tmp, "build", Some(&other));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing may reach kubectl apply");
    assert!(String::from_utf8_lossy(&out.stderr).contains(".sops."));
}

#[test]
fn gitlab_pipeline_uses_no_gpg_and_decrypts_the_kubeconfig_in_process() {
    let ci = std::fs::read_to_string(example().join(".gitlab-ci.yml")).expect(".gitlab-ci.yml");
    let docs = parse_stream(&ci).expect("valid YAML");
    let root_node = docs[0].root.as_ref().expect("a mapping");
    let script = |job: &str, key: &str| -> Vec<String> {
        match root_node
            .get(job)
            .and_then(|j| j.get(key))
            .map(|s| &s.value)
        {
            Some(Value::Seq { items, .. }) => items
                .iter()
                .filter_map(|i| i.node.as_scalar().map(String::from))
                .collect(),
            _ => panic!("{job}.{key} is not a list"),
        }
    };
    assert_eq!(script("deploy_develop", "script"), ["ci/deploy.sh apply"]);
    assert_eq!(script("destroy_develop", "script"), ["ci/deploy.sh delete"]);
    let before = script(".import_kube_credentials", "before_script");
    assert!(
        before
            .iter()
            .any(|l| l.contains("krm-sops decrypt kubeconfig.sops > \"$K8S_CONFIG_FILE\"")),
        "{before:?}"
    );
    for job in [
        ".import_kube_credentials",
        "deploy_develop",
        "destroy_develop",
    ] {
        for key in ["before_script", "script"] {
            if root_node.get(job).and_then(|j| j.get(key)).is_none() {
                continue;
            }
            for line in script(job, key) {
                assert!(
                    !line.contains("gpg ") && !line.starts_with("sops "),
                    "{job}: {line}"
                );
            }
        }
    }
    // The before_script's decryption, as the runner runs it (binary format, like `sops -d`).
    let tmp = TempDir::new("kubeconfig");
    let key = std::fs::read_to_string(example().join("keys/pgp.sec.asc")).expect("key");
    let out = crate::common::hermetic(&tmp)
        .args(["decrypt", "kubeconfig.sops"])
        .current_dir(example())
        .env("SOPS_PGP_PRIVATE_KEY", key)
        .output()
        .expect("decrypt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("apiVersion: v1\nkind: Config\n"), "{text}");
}
