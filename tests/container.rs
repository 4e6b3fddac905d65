//! The container function: the FROM-scratch image built from the static
//! binary, run as a real KRM container function by kpt (podman runtime) and
//! by `kubectl kustomize` (through a `docker` shim that runs podman). Skipped
//! with a message where no container engine or static binary exists, but
//! failing rather than skipping when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TempDir, keys, root, testdata};

const IMAGE: &str = "localhost/krm-sops:test";

fn skip(why: &str) -> bool {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "container tests cannot run on CI: {why}"
    );
    eprintln!("container: {why}; skipping");
    true
}

fn podman() -> Option<PathBuf> {
    let p = PathBuf::from("podman");
    if Command::new(&p)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        Some(p)
    } else {
        skip("podman is not installed (apt-get install podman runc)");
        None
    }
}

/// CONTAINERS_CONF for sandboxes without CAP_SYS_RESOURCE, unless the caller set one.
fn containers_conf() -> String {
    std::env::var("CONTAINERS_CONF")
        .unwrap_or_else(|_| root().join("docker/containers.conf").display().to_string())
}

fn kpt_bin() -> Option<PathBuf> {
    ["/usr/lib/google-cloud-sdk/bin/kpt", "kpt"]
        .iter()
        .map(PathBuf::from)
        .find(|p| {
            Command::new(p)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Builds the image from the static binary (as `make image` does).
fn build_image(podman: &Path) -> bool {
    let static_bin = root().join("target/x86_64-unknown-linux-musl/release/krm-sops");
    if !static_bin.exists() {
        return !skip("the static binary is missing (run `make static`)");
    }
    let out = Command::new(podman)
        .current_dir(root())
        .env("CONTAINERS_CONF", containers_conf())
        .args(["build", "-q", "-t", IMAGE, "-f", "Dockerfile", "."])
        .output()
        .expect("podman build");
    assert!(
        out.status.success(),
        "podman build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = Command::new(podman)
        .env("CONTAINERS_CONF", containers_conf())
        .args(["image", "inspect", IMAGE, "--format", "{{.Size}}"])
        .output()
        .expect("inspect");
    let bytes: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .expect("size");
    assert!(bytes < 10 << 20, "the image is {bytes} bytes, over 10 MiB");
    true
}

fn age_key() -> String {
    std::fs::read_to_string(keys().join("age/alice.txt"))
        .expect("alice")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("identity")
        .to_string()
}

/// A directory with a literal + encrypted-dotenv SopsGenerator and a package.
fn workspace(tmp: &TempDir, annotate: bool) -> PathBuf {
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("pkg")).expect("pkg");
    std::fs::write(
        work.join("pkg/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
    )
    .expect("deploy");
    std::fs::copy(
        testdata().join("generator/gen-envs-literals-files/app.sops.env"),
        work.join("app.sops.env"),
    )
    .expect("env");
    let annotation = if annotate {
        format!(
            "  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: {IMAGE}\n        mounts:\n          - type: bind\n            src: .\n            dst: /workspace\n        envs:\n          - SOPS_AGE_KEY\n"
        )
    } else {
        String::new()
    };
    std::fs::write(
        work.join("gen.yaml"),
        format!("apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata:\n  name: secrets\n{annotation}secretGenerator:\n  - name: app\n    envs: [app.sops.env]\n    literals: [FROM=container]\n"),
    )
    .expect("gen");
    std::fs::write(
        work.join("kustomization.yaml"),
        "resources: [pkg/deploy.yaml]\ngenerators: [gen.yaml]\n",
    )
    .expect("kustomization");
    work
}

#[test]
fn the_image_runs_as_a_krm_container_function() {
    let Some(podman) = podman() else { return };
    if !build_image(&podman) {
        return;
    }
    let tmp = TempDir::new("container");

    // Under kpt, with the podman runtime.
    match kpt_bin() {
        None => {
            skip("kpt is not installed");
        }
        Some(kpt) => {
            let work = workspace(&tmp, false);
            let out = Command::new(&kpt)
                .current_dir(&work)
                .env("CONTAINERS_CONF", containers_conf())
                .env("KPT_FN_RUNTIME", "podman")
                .env("SOPS_AGE_KEY", age_key())
                .args([
                    "fn",
                    "eval",
                    "pkg",
                    "--image",
                    IMAGE,
                    "--image-pull-policy",
                    "never",
                ])
                .args([
                    "--fn-config",
                    "gen.yaml",
                    "-e",
                    "SOPS_AGE_KEY",
                    "-o",
                    "stdout",
                ])
                .arg("--mount")
                .arg(format!("type=bind,src={},dst=/workspace", work.display()))
                .output()
                .expect("kpt");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "kpt container run failed:\n{}\n{stdout}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains("name: web"), "{stdout}");
            assert!(
                stdout.contains("DB_PASSWORD: czNjcjN0LWRiLXBhc3M="),
                "{stdout}"
            );
            assert!(stdout.contains("FROM: Y29udGFpbmVy"), "{stdout}");
        }
    }

    // Under kubectl kustomize: it runs `docker`, so a shim hands the call to podman.
    let shim = tmp.path().join("shim");
    std::fs::create_dir_all(&shim).expect("shim dir");
    std::fs::write(shim.join("docker"), "#!/bin/sh\nexec podman \"$@\"\n").expect("shim");
    let _ = Command::new("chmod")
        .arg("+x")
        .arg(shim.join("docker"))
        .status();
    let work = workspace(&tmp, true);
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&work)
        .env("PATH", path)
        .env("CONTAINERS_CONF", containers_conf())
        .env("SOPS_AGE_KEY", age_key())
        .output()
        .expect("kubectl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl kustomize with the container function failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("DB_PASSWORD: czNjcjN0LWRiLXBhc3M="),
        "{stdout}"
    );
    assert!(
        stdout.contains("name: app-"),
        "the hash suffix is missing:\n{stdout}"
    );
}

/// `command:` of the init container in an Argo CD patch under `examples/argocd`.
fn argocd_init_command(patch: &str) -> Vec<String> {
    use krm_sops::yaml::{Value, parse_stream};
    let text = std::fs::read_to_string(root().join("examples/argocd").join(patch)).expect("patch");
    let docs = parse_stream(&text).expect("YAML");
    let spec = docs[0]
        .root
        .as_ref()
        .and_then(|d| d.get("spec")?.get("template")?.get("spec"))
        .expect("spec.template.spec");
    let Some(Value::Seq { items, .. }) = spec.get("initContainers").map(|n| &n.value) else {
        panic!("{patch}: no initContainers");
    };
    let Some(Value::Seq { items: cmd, .. }) = items[0].node.get("command").map(|n| &n.value) else {
        panic!("{patch}: no command");
    };
    cmd.iter()
        .filter_map(|i| i.node.as_scalar().map(String::from))
        .collect()
}

#[test]
fn the_argo_cd_init_container_installs_every_plugin_path() {
    let Some(podman) = podman() else { return };
    if !build_image(&podman) {
        return;
    }
    for patch in ["repo-server-patch.yaml", "cmp/sidecar-patch.yaml"] {
        let cmd = argocd_init_command(patch);
        assert_eq!(cmd[0], "/usr/local/bin/krm-sops", "{patch}");
        let tmp = TempDir::new("argocd");
        let tools = tmp.path().join("custom-tools");
        std::fs::create_dir_all(&tools).expect("volume");
        // An emptyDir is writable by the pod's user; kubelet runs the image as nobody here.
        let _ = Command::new("chmod").arg("0777").arg(&tools).status();
        let out = Command::new(&podman)
            .env("CONTAINERS_CONF", containers_conf())
            .args(["run", "--rm", "--network", "none", "--user", "65534:65534"])
            .arg("-v")
            .arg(format!("{}:{}", tools.display(), cmd[2]))
            .arg("--entrypoint")
            .arg(&cmd[0])
            .arg(IMAGE)
            .args(&cmd[1..])
            .output()
            .expect("podman run");
        assert!(
            out.status.success(),
            "{patch}: the init container failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for p in krm_sops::cli::INSTALL_PATHS {
            assert!(tools.join(p).is_file(), "{patch}: {p} was not installed");
        }
        // The repo-server's kustomize then finds the plugin there.
        let key = std::fs::read_to_string(root().join("examples/jupyterhub/keys/age.txt"))
            .expect("example key");
        let out = Command::new("kubectl")
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(root().join("examples/jupyterhub/overlays/ldap-auth"))
            .env("KUSTOMIZE_PLUGIN_HOME", &tools)
            .env("SOPS_AGE_KEY", key)
            .env("KRM_SOPS_GPG", "off")
            .output()
            .expect("kubectl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("name: ldap-credentials-"),
            "{patch}: kustomize with the installed plugins failed:\n{}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
