//! The fuzz targets' checks (`krm_sops::fuzzing`), replayed on stable over
//! every input kept in `fuzz/corpus/TARGET/` and every past crash in
//! `fuzz/regressions/TARGET/`, with a time bound (a hang fails the test
//! instead of stalling it). The fuzzing itself: `make fuzz`, and a short run
//! per target in CI (`fuzz/run.sh`).

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use krm_sops::fuzzing::TARGETS;

use crate::common::root;

fn inputs(dir: &str, target: &str) -> Vec<PathBuf> {
    let d = root().join("fuzz").join(dir).join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .map(|r| r.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn corpus_and_past_crashes_replay_cleanly() {
    let mut total = 0;
    let mut regressions = 0;
    for (name, check) in TARGETS {
        let files: Vec<PathBuf> = inputs("corpus", name)
            .into_iter()
            .chain(inputs("regressions", name))
            .collect();
        regressions += inputs("regressions", name).len();
        assert!(!files.is_empty(), "fuzz/corpus/{name} is empty");
        total += files.len();
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            for f in files {
                let data = std::fs::read(&f).expect("read input");
                let _ = tx.send(Some(f.clone()));
                check(&data);
            }
            let _ = tx.send(None);
        });
        let mut current = None;
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(Some(f)) => current = Some(f),
                Ok(None) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{name}: {current:?} runs for over 20 s (a hang)")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Err(e) = worker.join() {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{name}: {current:?} fails the target's checks: {why}");
        }
    }
    assert!(regressions >= 1, "the regression inputs are gone");
    eprintln!("fuzz replay: {total} inputs, {regressions} past crashes");
}
