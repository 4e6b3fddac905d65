//! File formats ("stores" in sops): reading an encrypted file into documents
//! plus metadata, and printing decrypted documents.
//!
//! Each format lives in its own module; this one names the formats, picks one
//! from a file extension the way sops does, and dispatches. Binary files are
//! read with the JSON store (sops wraps them as `{"data": …, "sops": …}`) and
//! printed as the raw bytes of their `data` value.

pub mod dotenv;
pub mod ini;
pub mod json;
pub mod yaml;

use super::metadata::Meta;
use super::tree::{Branch, Item, Value};

/// The formats sops reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// Parses a `--input-type`/`--output-type` value.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "yaml" | "yml" => Format::Yaml,
            "json" => Format::Json,
            "dotenv" | "env" => Format::Dotenv,
            "ini" => Format::Ini,
            "binary" => Format::Binary,
            _ => return None,
        })
    }

    /// The format sops infers from a path: `.yaml`/`.yml`, `.json`, `.env`, `.ini`, else binary.
    pub fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".env") {
            Format::Dotenv
        } else if lower.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Ini => "INI",
            Format::Binary => "binary",
        }
    }
}

/// What a store read: the data documents and the raw metadata, if any.
pub struct Loaded {
    pub docs: Vec<Branch>,
    pub meta: Option<Meta>,
    /// For JSON/binary input: the number typing to retry with if the MAC mismatches.
    pub json: Option<json::JsonFile>,
}

/// Reads `input` in `format`. JSON numbers are typed later (they depend on the
/// writer's version), so JSON input keeps its parsed form in `json`.
pub fn load(format: Format, input: &[u8]) -> Result<Loaded, String> {
    match format {
        Format::Json | Format::Binary => {
            let mut f = json::load(input)?;
            let meta = f.meta.take();
            Ok(Loaded {
                docs: Vec::new(),
                meta,
                json: Some(f),
            })
        }
        Format::Yaml => {
            let (docs, meta) = yaml::load(input)?;
            Ok(Loaded {
                docs,
                meta,
                json: None,
            })
        }
        Format::Dotenv => {
            let (doc, meta) = dotenv::load(input)?;
            Ok(Loaded {
                docs: vec![doc],
                meta,
                json: None,
            })
        }
        Format::Ini => {
            let (doc, meta) = ini::load(input)?;
            Ok(Loaded {
                docs: vec![doc],
                meta,
                json: None,
            })
        }
    }
}

/// The raw bytes of the `data` value, as sops' binary store prints them.
fn emit_binary(docs: &[Branch]) -> Result<Vec<u8>, String> {
    const HINT: &str =
        " (this is likely not an encrypted binary file; use --output-type to pick another format)";
    if docs.len() != 1 {
        return Err(format!("binary output needs exactly one document{HINT}"));
    }
    for item in &docs[0].0 {
        if let Item::Entry(k, v) = item
            && k == "data"
        {
            return match v {
                Value::Str(s) => Ok(s.as_bytes().to_vec()),
                _ => Err(format!("the `data` value is not a string{HINT}")),
            };
        }
    }
    Err(format!(
        "no binary data (no top-level `data` key) found{HINT}"
    ))
}

/// Prints decrypted documents in `format`.
pub fn emit(format: Format, docs: &[Branch]) -> Result<Vec<u8>, String> {
    match format {
        Format::Yaml => yaml::emit(docs),
        Format::Json => json::emit(docs),
        Format::Dotenv => dotenv::emit(docs),
        Format::Ini => ini::emit(docs),
        Format::Binary => emit_binary(docs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions_like_sops() {
        assert_eq!(Format::from_path("a.sops.yaml"), Format::Yaml);
        assert_eq!(Format::from_path("a.YML"), Format::Yaml);
        assert_eq!(Format::from_path(".dockerconf.sops.json"), Format::Json);
        assert_eq!(Format::from_path("ldap.sops.env"), Format::Dotenv);
        assert_eq!(Format::from_path("x.ini"), Format::Ini);
        assert_eq!(Format::from_path("cert.pem"), Format::Binary);
        assert_eq!(Format::from_path("-"), Format::Binary);
    }

    #[test]
    fn binary_output_needs_a_string_data_key() {
        let mut b = Branch::new();
        b.push("data", Value::str("raw\x00bytes"));
        assert_eq!(emit_binary(&[b]).unwrap(), b"raw\x00bytes");
        let mut b = Branch::new();
        b.push("data", Value::Int(1));
        assert!(emit_binary(&[b]).is_err());
        assert!(emit_binary(&[Branch::new()]).is_err());
    }
}
