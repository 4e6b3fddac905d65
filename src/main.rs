//! The `krm-sops` binary: parse the command line, run, map errors to exit
//! codes. All behaviour lives in the library (`krm_sops::cli`).

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = krm_sops::cli::main(args);
    ExitCode::from(code as u8)
}
