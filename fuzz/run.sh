#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation (nightly; the
# flags `cargo fuzz build -s none` uses: safe Rust needs no sanitizer, and debug
# assertions plus overflow checks stay on) and runs each for a while.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 30 s, every target
#
# FUZZ_SEED fixes libFuzzer's random seed (0, the default, picks one); the CI smoke
# run uses a fixed seed and FUZZ_RUNS (a cap on executions, whichever of it and the
# time comes first) so that it only ever repeats a prefix of what ran before landing.
# New inputs go to a scratch corpus (FUZZ_KEEP=1: into fuzz/corpus/TARGET, to be
# minimized and committed); a crash stops the run, is saved under
# fuzz/artifacts/TARGET/ and fails it. Once fixed, copy the input to
# fuzz/regressions/TARGET/ so `cargo test` replays it for ever.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
if (($#)); then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^krm-sops-fuzz$')
fi

export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the flags off build scripts (as cargo-fuzz does).
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
cargo +nightly build --release --locked --bins --target "$host"
bin="target/$host/release"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  if [[ "${FUZZ_KEEP:-0}" == 1 ]]; then dirs=("corpus/$t"); else mkdir -p "$scratch/$t"; dirs=("$scratch/$t" "corpus/$t"); fi
  [[ -d "regressions/$t" ]] && dirs+=("regressions/$t")
  echo "== $t (${secs}s)"
  if ! "$bin/$t" -seed="${FUZZ_SEED:-0}" -runs="${FUZZ_RUNS:--1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${dirs[@]}" 2> "$scratch/$t.log"; then
    tail -n 40 "$scratch/$t.log"
    echo "fuzz: $t found a crash (see fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$scratch/$t.log" | tr '\n' ' '
  echo
done
