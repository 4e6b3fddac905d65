//! Running helper programs (`SOPS_AGE_KEY_CMD`, the gpg fallback) with a
//! bounded time and no terminal.
//!
//! krm-sops runs inside CI jobs and Argo CD, where a prompt or a hung helper
//! would stall a deployment. Every child gets stdin from us (never a TTY), its
//! output is captured, and it is killed when the deadline passes. Readers run
//! on threads so a child that fills a pipe cannot deadlock us; if a grandchild
//! keeps a pipe open after the child died, we stop waiting at the deadline.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Default time a helper program may take, overridable by `KRM_SOPS_CMD_TIMEOUT` (seconds).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The helper timeout from the environment.
pub fn timeout_from_env() -> Duration {
    std::env::var("KRM_SOPS_CMD_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

/// What a finished helper produced.
pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: zeroize::Zeroizing<Vec<u8>>,
    pub stderr: Vec<u8>,
}

/// Largest output read from a helper (identity lists and data keys are tiny).
const MAX_OUTPUT: u64 = 16 << 20;

fn reader<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut r).take(MAX_OUTPUT).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `cmd` with `input` on stdin, killing it after `timeout`.
pub fn run(mut cmd: Command, input: &[u8], timeout: Duration) -> Result<Output, String> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let out_rx = child.stdout.take().map(reader);
    let err_rx = child.stderr.take().map(reader);
    if let Some(mut stdin) = child.stdin.take() {
        let data = input.to_vec();
        thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not finish within {:.0} s and was stopped (KRM_SOPS_CMD_TIMEOUT)",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("cannot wait for {program}: {e}")),
        }
    };
    let collect = |rx: Option<mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| {
            rx.recv_timeout(
                deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(200),
            )
            .ok()
        })
        .unwrap_or_default()
    };
    Ok(Output {
        success: status.success(),
        code: status.code(),
        stdout: zeroize::Zeroizing::new(collect(out_rx)),
        stderr: collect(err_rx),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let mut c = Command::new("sh");
        c.args(["-c", "cat; echo err >&2; exit 3"]);
        let o = run(c, b"hello", Duration::from_secs(5)).unwrap();
        assert_eq!(&o.stdout[..], b"hello");
        assert_eq!(o.stderr, b"err\n");
        assert_eq!(o.code, Some(3));
        assert!(!o.success);
    }

    #[test]
    fn a_hanging_helper_is_stopped() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let t = Instant::now();
        let e = run(c, b"", Duration::from_millis(300)).err().unwrap();
        assert!(e.contains("did not finish"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let c = Command::new("/nonexistent/krm-sops-helper");
        assert!(run(c, b"", Duration::from_secs(1)).is_err());
    }
}
