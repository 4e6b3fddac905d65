//! Entry points for the fuzz targets (`fuzz/`) and for replaying their corpus
//! and past crashes as ordinary tests (`tests/fuzz.rs`).
//!
//! Each function feeds arbitrary bytes to one parser the way untrusted input
//! reaches it in production and checks what must hold whatever the input:
//! no panic, no hang, and — where a value parses — that printing it back
//! works too. Errors are the expected outcome for most inputs and are
//! ignored. Not part of the supported API.

use crate::config::{Config, Origin};
use crate::keys::Keyring;
use crate::keys::sources::KeyEnv;
use crate::sops::cipher::{DataKey, Encrypted, decrypt_value};
use crate::sops::metadata::{Metadata, unflatten};
use crate::sops::store::{self, Format};

/// The TEST-ONLY age identity the decrypt target opens files with
/// (`testdata/keys/age/alice.txt`), so mutated files get past key recovery.
pub const FUZZ_AGE_KEY: &str =
    "AGE-SECRET-KEY-17UG7YDYQ9L006HEV24TCLXDQXTFALUERT8TFZLYVC56AWW9GNMRQX5AHM4";

fn format_of(b: u8) -> Format {
    match b % 5 {
        0 => Format::Yaml,
        1 => Format::Json,
        2 => Format::Dotenv,
        3 => Format::Ini,
        _ => Format::Binary,
    }
}

/// A store parser, then printing what it read.
pub fn store(format: Format, data: &[u8]) {
    if let Ok(loaded) = store::load(format, data) {
        let _ = store::emit(format, &loaded.docs);
        if let Some(meta) = &loaded.meta {
            let _ = Metadata::parse(meta);
        }
    }
}

/// The whole decryption of a file (first byte picks the format), with a test age key.
pub fn decrypt(data: &[u8]) {
    let Some((&first, file)) = data.split_first() else {
        return;
    };
    let env = KeyEnv {
        age_key: Some(zeroize::Zeroizing::new(FUZZ_AGE_KEY.to_string())),
        ..KeyEnv::default()
    };
    let keyring = Keyring::new(env, None);
    let format = format_of(first);
    if let Ok(d) = crate::sops::decrypt("fuzz", file, format, &keyring) {
        let _ = store::emit(format, &d.docs);
    }
}

/// An `ENC[AES256_GCM,…]` value, opened with a fixed key.
pub fn enc_value(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Encrypted::parse(s);
    if let Some(key) = DataKey::from_slice(&[7u8; 32]) {
        let _ = decrypt_value(s, &key, "fuzz:");
    }
}

/// The flat `sops_*` metadata of dotenv and INI files: `key=value` lines.
pub fn metadata(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = s.lines().filter_map(|l| l.split_once('=')).collect();
    if let Ok(meta) = unflatten(pairs) {
        let _ = Metadata::parse(&meta);
    }
}

/// A generator configuration of any kind.
pub fn generator_config(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Origin {
        file: "fuzz.yaml".into(),
    };
    let _ = Config::parse(s, &origin);
}

/// A ResourceList on stdin, and the ResourceList printed back.
pub fn resource_list(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rl) = crate::krm::ResourceList::parse(s) {
        let (items, cfg) = rl.items_without_config();
        if let Some(cfg) = cfg {
            let _ = Config::from_node(&cfg, &Origin { file: "fn".into() });
        }
        let text = crate::krm::render(items, &[]);
        if let Err(e) = crate::yaml::parse_stream(&text) {
            panic!("a rendered ResourceList does not parse ({e}):\n{text}");
        }
    }
}

/// The env-file readers: kustomize's, godotenv's (KSOPS), SopsSecretGenerator's.
pub fn env_files(data: &[u8]) {
    let _ = crate::secret::parse_env_file(data);
    let _ = crate::compat::godotenv::parse(data);
    let _ = crate::compat::ssg_env::dotenv(data);
    let _ = crate::compat::ssg_env::yaml(data);
}

/// YAML in, YAML out: whatever parses must print as YAML that parses again.
pub fn yaml_roundtrip(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = crate::yaml::parse_stream(s) else {
        return;
    };
    let roots: Vec<_> = docs.into_iter().filter_map(|d| d.root).collect();
    let text = crate::yaml::emit::emit_documents(&roots, &crate::yaml::emit::Options::kubernetes());
    if let Err(e) = crate::yaml::parse_stream(&text) {
        panic!("printed YAML does not parse again ({e}):\n{text}");
    }
}

/// A fuzz target: its name and its check.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name (for the replay test and the fuzz runner).
pub const TARGETS: [Target; 11] = [
    ("store_yaml", |d| store(Format::Yaml, d)),
    ("store_json", |d| store(Format::Json, d)),
    ("store_dotenv", |d| store(Format::Dotenv, d)),
    ("store_ini", |d| store(Format::Ini, d)),
    ("decrypt", decrypt),
    ("enc_value", enc_value),
    ("metadata", metadata),
    ("generator_config", generator_config),
    ("resource_list", resource_list),
    ("env_files", env_files),
    ("yaml_roundtrip", yaml_roundtrip),
];
