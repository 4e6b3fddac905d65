//! The command line: which mode to run, its arguments, and printing results
//! and errors.
//!
//! `krm-sops decrypt [--input-type T] [--output-type T] FILE` prints what
//! `sops decrypt` prints. This module is the only place that writes to
//! stdout or stderr: plaintext goes to stdout and nothing else does; errors
//! go to stderr as `krm-sops: error: …` plus a `hint: …` line, and map to the
//! exit codes in `error::ExitCode`.

use std::ffi::OsString;
use std::io::{Read, Write};

use zeroize::Zeroizing;

use crate::error::{Error, ExitCode, Result};
use crate::keys::Keyring;
use crate::sops::store::{self, Format};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const USAGE: &str = "\
krm-sops — build Kubernetes Secrets from SOPS-encrypted files inside kustomize

Usage:
  krm-sops                  KRM function: read a ResourceList on stdin, write one on stdout
  krm-sops CONFIG_FILE      kustomize legacy exec plugin: print the generated objects
  krm-sops decrypt [--input-type T] [--output-type T] FILE   print a SOPS file decrypted (FILE - = stdin)
  krm-sops install DIR      copy this binary to DIR/krm-sops and every legacy plugin path under DIR
  krm-sops --version | --help

Options:
  --input-type T    yaml, json, dotenv, ini or binary (default: from the extension, as sops)
  --output-type T   same choices (default: the input type)
  -v, --verbose     say on stderr which key opened each file (also KRM_SOPS_VERBOSE=1)

Keys (as sops reads them): SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.config/sops/age/keys.txt, ~/.ssh/id_ed25519, ~/.ssh/id_rsa;
OpenPGP in process: SOPS_PGP_PRIVATE_KEY, SOPS_PGP_PRIVATE_KEY_FILE (':'-separated), SOPS_PGP_PASSPHRASE;
then the gpg keyring (SOPS_GPG_EXEC; KRM_SOPS_GPG=off disables it).

Exit codes: 0 ok, 1 KRM function failure, 2 usage, 3 not a SOPS file or malformed,
4 integrity (tampered value, MAC mismatch or missing), 5 no key could decrypt the data key,
6 key source unusable, 7 I/O, 8 invalid generator config.
";

/// Options shared by every mode.
#[derive(Default)]
struct Global {
    verbose: bool,
}

/// Prints an error the one way krm-sops prints errors.
pub fn report(err: &Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "krm-sops: error: {err}");
    let _ = writeln!(stderr, "hint: {}", err.hint());
}

fn verbose_from_env() -> bool {
    matches!(
        std::env::var("KRM_SOPS_VERBOSE").as_deref(),
        Ok("1" | "true" | "yes" | "on")
    )
}

/// Reads FILE (or stdin for `-`), refusing directories and oversized input.
pub fn read_input(path: &str) -> Result<Zeroizing<Vec<u8>>> {
    let limit = crate::sops::MAX_INPUT as u64 + 1;
    let mut buf = Zeroizing::new(Vec::new());
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("(stdin)", "read", e))?;
        return Ok(buf);
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "read", e))?;
    if meta.is_dir() {
        return Err(Error::io(
            path,
            "read",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "it is a directory"),
        ));
    }
    if meta.is_file() && meta.len() >= limit {
        // Refused before reading: memory stays bounded whatever the file's size.
        return Err(Error::malformed(
            path,
            format!(
                "the file is {} MiB, larger than the {} MiB limit for SOPS files",
                meta.len() >> 20,
                crate::sops::MAX_INPUT >> 20
            ),
        ));
    }
    std::fs::File::open(path)
        .and_then(|f| f.take(limit).read_to_end(&mut buf))
        .map_err(|e| Error::io(path, "read", e))?;
    Ok(buf)
}

fn type_arg(args: &mut std::vec::IntoIter<String>, flag: &str) -> Result<Format> {
    let v = args
        .next()
        .ok_or_else(|| Error::usage(format!("{flag} needs a value")))?;
    Format::parse(&v).ok_or_else(|| {
        Error::usage(format!(
            "{flag} {v:?} is not one of yaml, json, dotenv, ini, binary"
        ))
    })
}

fn decrypt_cmd(args: Vec<String>, global: &Global) -> Result<()> {
    let mut input_type = None;
    let mut output_type = None;
    let mut file = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--input-type" => input_type = Some(type_arg(&mut it, "--input-type")?),
            "--output-type" => output_type = Some(type_arg(&mut it, "--output-type")?),
            s if s.starts_with("--input-type=") => {
                let v = &s["--input-type=".len()..];
                input_type = Some(Format::parse(v).ok_or_else(|| {
                    Error::usage(format!(
                        "--input-type {v:?} is not one of yaml, json, dotenv, ini, binary"
                    ))
                })?);
            }
            s if s.starts_with("--output-type=") => {
                let v = &s["--output-type=".len()..];
                output_type = Some(Format::parse(v).ok_or_else(|| {
                    Error::usage(format!(
                        "--output-type {v:?} is not one of yaml, json, dotenv, ini, binary"
                    ))
                })?);
            }
            "-" => file = Some(a),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(Error::usage(format!("unknown option {s} for decrypt")));
            }
            _ if file.is_some() => return Err(Error::usage("decrypt takes exactly one FILE")),
            _ => file = Some(a),
        }
    }
    let file = file.ok_or_else(|| Error::usage("decrypt needs a FILE (or - for stdin)"))?;
    let input_type = input_type.unwrap_or_else(|| Format::from_path(&file));
    let output_type = output_type.unwrap_or(input_type);
    let shown = if file == "-" {
        "(stdin)"
    } else {
        file.as_str()
    };
    let input = read_input(&file)?;
    let keyring = Keyring::from_env().describing(global.verbose);
    let decrypted = crate::sops::decrypt(shown, &input, input_type, &keyring)?;
    if global.verbose {
        for by in &decrypted.opened_by {
            eprintln!("krm-sops: {shown}: data key opened by {by}");
        }
        if decrypted.unopened_comments > 0 {
            eprintln!(
                "krm-sops: {shown}: {} encrypted comment(s) could not be opened and were kept as they are",
                decrypted.unopened_comments
            );
        }
    }
    let out = Zeroizing::new(store::emit(output_type, &decrypted.docs).map_err(|what| {
        Error::Output {
            file: shown.into(),
            what,
        }
    })?);
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("(stdout)", "write", e)),
    }
}

fn print_opened_by(global: &Global, lines: &[String]) {
    if global.verbose {
        for l in lines {
            eprintln!("krm-sops: {l}");
        }
    }
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("krm-sops: warning: {w}");
    }
}

/// Where `install` puts copies of the binary, relative to DIR: the exec
/// function name and every legacy exec plugin path krm-sops serves.
pub const INSTALL_PATHS: [&str; 5] = [
    "krm-sops",
    "krm-sops.dev/v1/sopsgenerator/SopsGenerator",
    "viaduct.ai/v1/ksops/ksops",
    "goabout.com/v1beta1/sopssecretgenerator/SopsSecretGenerator",
    "goabout.com/v1beta1/sopssecret/SopsSecret",
];

/// `krm-sops install DIR`: for init containers on distroless images (no shell, no cp).
fn install_cmd(args: &[String]) -> Result<()> {
    let [dir] = args else {
        return Err(Error::usage("install takes exactly one DIR"));
    };
    let exe = std::env::current_exe().map_err(|e| Error::io("(running binary)", "locate", e))?;
    let bytes = std::fs::read(&exe).map_err(|e| Error::io(&exe, "read", e))?;
    for rel in INSTALL_PATHS {
        let dest = std::path::Path::new(dir).join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, "create", e))?;
        }
        // Write beside the destination, then rename: a running copy is never half-written.
        let tmp = dest.with_extension("krm-sops-tmp");
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, "write", e))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(&tmp, "chmod", e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, "write", e))?;
        println!("installed {}", dest.display());
    }
    Ok(())
}

/// Legacy exec plugin mode: `krm-sops CONFIG_FILE` prints the objects as a YAML stream.
fn plugin_cmd(path: &str, extra: &[String], global: &Global) -> Result<()> {
    if let Some(a) = extra.first() {
        return Err(Error::usage(format!(
            "unexpected argument {a:?} after the config file (krm-sops reads everything from the config)"
        )));
    }
    let bytes = read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::config(path, "", "the configuration is not UTF-8"))?;
    let origin = crate::config::Origin {
        file: path.to_string(),
    };
    let config = crate::config::Config::parse(text, &origin)?;
    let keyring = Keyring::from_env().describing(global.verbose);
    let out = crate::generator::run(&config, &keyring, path)?;
    print_opened_by(global, &out.opened_by);
    print_warnings(&out.warnings);
    let text = Zeroizing::new(crate::krm::render_stream(&out.objects));
    write_stdout(text.as_bytes())
}

/// KRM function mode: a ResourceList on stdin. Returns the exit code (1 on failure).
fn krm_cmd(global: &Global) -> ExitCode {
    use crate::krm::{KrmResult, ResourceList, render};
    let input = match read_input("-") {
        Ok(b) => b,
        Err(e) => {
            report(&e);
            return ExitCode::Failure;
        }
    };
    let fail = |items: Vec<crate::yaml::Node>, e: Error| {
        report(&e);
        let result = KrmResult {
            message: format!("{e}\nhint: {}", e.hint()),
            file: e.file().map(str::to_string),
            warning: false,
        };
        let _ = write_stdout(render(items, &[result]).as_bytes());
        ExitCode::Failure
    };
    let text = match std::str::from_utf8(&input) {
        Ok(t) => t,
        Err(_) => {
            return fail(
                Vec::new(),
                Error::config("(ResourceList on stdin)", "", "stdin is not UTF-8"),
            );
        }
    };
    let rl = match ResourceList::parse(text) {
        Ok(rl) => rl,
        Err(e) => return fail(Vec::new(), e),
    };
    let (items, cfg) = rl.items_without_config();
    // The configs to run: the functionConfig (kustomize, `kpt --fn-config`),
    // or else every item of a kind we serve (how KSOPS and
    // SopsSecretGenerator read a ResourceList); other items pass through.
    let (items, configs) = match cfg {
        Some(cfg) => (items, vec![(cfg, "(functionConfig)".to_string())]),
        None => {
            let (configs, rest): (Vec<_>, Vec<_>) = items
                .into_iter()
                .partition(crate::config::Config::recognizes);
            let configs = configs
                .into_iter()
                .enumerate()
                .map(|(i, c)| (c, format!("(ResourceList item {i})")))
                .collect::<Vec<_>>();
            if configs.is_empty() {
                let e = Error::config(
                    "(ResourceList on stdin)",
                    "",
                    "the ResourceList has no functionConfig and no generator config among its items (give the config: kustomize does, kpt needs --fn-config)",
                );
                return fail(rest, e);
            }
            (rest, configs)
        }
    };
    let keyring = Keyring::from_env().describing(global.verbose);
    let run = |cfg: &crate::yaml::Node, file: &str| -> Result<crate::generator::Output> {
        let origin = crate::config::Origin { file: file.into() };
        let config = crate::config::Config::from_node(cfg, &origin)?;
        crate::generator::run(&config, &keyring, &origin.file)
    };
    let mut generated = Vec::new();
    let mut warnings = Vec::new();
    for (cfg, file) in &configs {
        match run(cfg, file) {
            Ok(out) => {
                print_opened_by(global, &out.opened_by);
                generated.extend(out.objects);
                warnings.extend(out.warnings);
            }
            Err(e) => return fail(items, e),
        }
    }
    print_warnings(&warnings);
    let results: Vec<KrmResult> = warnings
        .into_iter()
        .map(|message| KrmResult {
            message,
            file: None,
            warning: true,
        })
        .collect();
    let mut all = items;
    all.extend(generated);
    let text = Zeroizing::new(render(all, &results));
    match write_stdout(text.as_bytes()) {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            report(&e);
            ExitCode::Failure
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let mut global = Global {
        verbose: verbose_from_env(),
    };
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    // Global flags may come before the subcommand.
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" | "--verbose" => global.verbose = true,
            "-h" | "--help" | "help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "-V" | "--version" | "version" => {
                println!("krm-sops {VERSION}");
                return Ok(());
            }
            _ => {
                rest.push(a);
                rest.extend(it.by_ref());
            }
        }
    }
    let Some(cmd) = rest.first().cloned() else {
        return Err(Error::usage("no command given"));
    };
    if !matches!(cmd.as_str(), "decrypt" | "install") && !cmd.starts_with('-') {
        return plugin_cmd(&cmd, &rest[1..], &global);
    }
    let sub: Vec<String> = rest[1..]
        .iter()
        .filter(|a| {
            let v = matches!(a.as_str(), "-v" | "--verbose");
            if v {
                global.verbose = true;
            }
            !v
        })
        .cloned()
        .collect();
    match cmd.as_str() {
        "decrypt" => decrypt_cmd(sub, &global),
        "install" => install_cmd(&sub),
        other => Err(Error::usage(format!("unknown command {other:?}"))),
    }
}

/// Runs the program with `args` (without argv[0]) and returns the exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Option<Vec<String>> = args.into_iter().map(|a| a.into_string().ok()).collect();
    let Some(args) = args else {
        report(&Error::usage("arguments must be valid UTF-8"));
        return ExitCode::Usage;
    };
    let only_verbose = args.iter().all(|a| a == "-v" || a == "--verbose");
    if only_verbose {
        let global = Global {
            verbose: verbose_from_env() || !args.is_empty(),
        };
        return krm_cmd(&global);
    }
    match run(args) {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}
