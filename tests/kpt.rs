//! KRM function mode under a real runtime: `kpt fn eval PKG --exec krm-sops
//! --fn-config CFG`. Package items must come back unchanged, the generated
//! Secret must be appended, and failures must surface as error results.
//! Skipped (with a message) without kpt, never when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{TempDir, bin, keys, testdata};

fn kpt() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("/usr/lib/google-cloud-sdk/bin/kpt"),
        PathBuf::from("kpt"),
    ];
    let found = candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kpt is needed on CI"
        );
        eprintln!("kpt: not installed; skipping");
    }
    found
}

const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env:
        - name: ENABLED
          value: 'yes'
        - name: MODE
          value: \"0644\"
      volumes:
      - name: cfg
        configMap:
          name: web-config
          defaultMode: 0644
";

/// A working directory with `pkg/` (Kptfile + Deployment), `secrets/` and `cfg.yaml`.
fn workspace(tmp: &TempDir) -> PathBuf {
    let work = tmp.path().join("work");
    let pkg = work.join("pkg");
    let secrets = work.join("secrets");
    std::fs::create_dir_all(&pkg).expect("pkg");
    std::fs::create_dir_all(&secrets).expect("secrets");
    std::fs::write(
        pkg.join("Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
    )
    .expect("Kptfile");
    std::fs::write(pkg.join("deploy.yaml"), DEPLOY).expect("deploy");
    let src = testdata().join("generator/gen-envs-literals-files");
    for f in ["app.sops.env", ".dockerconf.sops.json"] {
        std::fs::copy(src.join(f), secrets.join(f)).expect("copy secret");
    }
    std::fs::write(
        work.join("cfg.yaml"),
        "apiVersion: krm-sops.dev/v1\nkind: SopsGenerator\nmetadata:\n  name: secrets\nsecretGenerator:\n  - name: app\n    envs: [secrets/app.sops.env]\n    files: [config.json=secrets/.dockerconf.sops.json]\n",
    )
    .expect("cfg");
    work
}

fn eval(kpt: &Path, work: &Path, key_file: &Path) -> Output {
    Command::new(kpt)
        .current_dir(work)
        .args(["fn", "eval", "pkg", "--exec"])
        .arg(bin())
        .args([
            "--fn-config",
            "cfg.yaml",
            "-o",
            "stdout",
            "--truncate-output=false",
        ])
        .env("SOPS_AGE_KEY_FILE", key_file)
        .env("KRM_SOPS_GPG", "off")
        .output()
        .expect("run kpt")
}

#[test]
fn kpt_runs_the_exec_function_and_keeps_package_items() {
    let Some(kpt) = kpt() else { return };
    let tmp = TempDir::new("kpt");
    let work = workspace(&tmp);
    let out = eval(&kpt, &work, &keys().join("age/alice.txt"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kpt failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains("kind: Kptfile"), "{stdout}");
    for line in [
        "defaultMode: 0644",
        "value: 'yes'",
        "value: \"0644\"",
        "replicas: 2",
        "image: nginx:1.27",
    ] {
        assert!(
            stdout.contains(line),
            "package item changed, {line:?} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("kind: Secret"), "{stdout}");
    assert!(
        stdout.contains("DB_PASSWORD: czNjcjN0LWRiLXBhc3M="),
        "{stdout}"
    );
    assert!(
        stdout.contains("kustomize.config.k8s.io/needs-hash: \"true\""),
        "{stdout}"
    );
    assert!(
        !stdout.contains("SopsGenerator"),
        "the config must not be emitted:\n{stdout}"
    );
    // kpt gave the new object its default path; the package on disk is untouched (-o stdout).
    assert_eq!(
        std::fs::read_to_string(work.join("pkg/deploy.yaml")).expect("deploy"),
        DEPLOY
    );
}

#[test]
fn kpt_reports_failures_as_error_results() {
    let Some(kpt) = kpt() else { return };
    let tmp = TempDir::new("kpt");
    let work = workspace(&tmp);
    let out = eval(&kpt, &work, &keys().join("age/bob.txt"));
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("[error]"), "{all}");
    assert!(all.contains("no key could decrypt the data key"), "{all}");
    assert!(all.contains("secretGenerator[0] (app): envs[0]"), "{all}");
    assert!(!all.contains("s3cr3t"), "plaintext leaked:\n{all}");
}
