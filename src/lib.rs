//! krm-sops: build Kubernetes Secrets from SOPS-encrypted files inside
//! `kustomize build`, in pure Rust.
//!
//! The crate is a library with a thin binary (`src/main.rs`). The engine
//! (`sops`, `keys`, `shamir`) decrypts every file the `sops` CLI writes —
//! YAML, JSON, dotenv, INI and binary — verifying the MAC, with age and
//! OpenPGP keys and Shamir key groups, without calling `sops`, `gpg` or Go
//! code. `yaml` is the comment-preserving YAML reader/writer the engine and
//! the Kubernetes side share. `cli` parses the command line and runs the
//! subcommands; `error` is the one error type, with hints and exit codes.
//! Nothing here writes plaintext to disk.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod compat;
pub mod config;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod generator;
pub mod keys;
pub mod krm;
pub mod process;
pub mod secret;
pub mod shamir;
pub mod sops;
pub mod yaml;

pub use error::{Error, ExitCode, Result};
