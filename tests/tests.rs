//! Integration tests, linked into one binary. Where new tests go:
//!
//! - `fuzz`: the fuzz corpus and past crashes, replayed through `krm_sops::fuzzing`.
//! - `golden`: table-driven cases under `testdata/` (decrypt now; KRM and
//!   generator cases join here). Add a case by adding a directory (see
//!   `testdata/README.md`), never by adding code.
//! - `cli`: command-line behaviour (usage errors, exit codes, stdin, verbose, install).
//! - `compat`: KSOPS and SopsSecretGenerator configs against the originals' outputs.
//! - `container`: the FROM-scratch image under kpt and kubectl kustomize (podman).
//! - `hardening`: oversized and hostile input within stated bounds; no file written (strace).
//! - `interop`: round trips against the real `sops` (fresh random files).
//! - `keys`: OCB messages, the gpg keyring fallback.
//! - `kpt`: the KRM function under `kpt fn eval --exec`.
//! - `recipes`: the GitLab CI recipe of the JupyterHub example, run end to end.
//! - `oracle`: plugin builds against native secretGenerator builds (kubectl kustomize).
//!
//! Shared helpers live in `common`.

mod cli;
mod common;
mod compat;
mod container;
mod fuzz;
mod golden;
mod hardening;
mod interop;
mod keys;
mod kpt;
mod oracle;
mod recipes;
