#!/usr/bin/env bash
# Build and run the fuzz targets with libFuzzer on stable Rust (see docs/reliability.md).
#
#   fuzz/run.sh build                  build every target
#   fuzz/run.sh smoke [SECONDS]        build, then run each target SECONDS (default 5) from its seeds
#   fuzz/run.sh run TARGET [ARGS...]   run one target; ARGS go to libFuzzer (e.g. -runs=1000000)
#   fuzz/run.sh long [RUNS]            each target in turn for RUNS executions (default 1000000),
#                                      at the lowest priority, with a summary line per target
#   fuzz/run.sh targets                list the targets
#
# This is what `cargo fuzz build -s none` does (the same instrumentation flags, no sanitizer,
# so no nightly-only flag), without needing cargo-fuzz installed; `cargo fuzz run -s none
# TARGET` works as well. Corpora go to fuzz/corpus/TARGET (each target writes its seeds
# there when it starts), crashes to fuzz/artifacts/TARGET/; fuzz/dict/FAMILY.dict, when there
# is one, is the dictionary of the targets named FAMILY or FAMILY_* (webhook_stripe → webhook).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
SELF="$FUZZ_DIR/$(basename "$0")"

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FUZZ_DIR/../target}"
BIN_DIR="$CARGO_TARGET_DIR/$TRIPLE/release"
TARGETS=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^meshline-fuzz$')

build() {
  # The flags cargo-fuzz 0.13 passes for `-s none`. Passing --target keeps them off build
  # scripts and proc macros; instrument-own.sh keeps them off other people's crates (cargo
  # does not see a wrapper change: the --cfg below makes a build from before it rebuild).
  RUSTC_WRAPPER="$FUZZ_DIR/instrument-own.sh" RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cllvm-args=-simplifycfg-branch-fold-threshold=0 --cfg fuzzing_own_crates \
${FUZZ_RUSTFLAGS:-}" \
    cargo build --release --locked --target "$TRIPLE" --bins
}

# run TARGET [libFuzzer args...]
run() {
  local t=$1
  shift
  mkdir -p "corpus/$t" "artifacts/$t"
  # A dictionary named after the target's family (webhook_stripe → dict/webhook.dict).
  local dict=()
  [ -f "dict/${t%%_*}.dict" ] && dict=(-dict="dict/${t%%_*}.dict")
  "$BIN_DIR/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" -timeout=30 \
    -print_final_stats=1 "${dict[@]}" "$@"
}

# summary TARGET LOG: one line with the executions, the time and the corpus size.
summary() {
  local runs secs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$2" | tail -1)
  printf '%-18s %10s executions %6s s   corpus %s inputs\n' "$1" "${runs:-?}" "${secs:-?}" \
    "$(find "corpus/$1" -type f | wc -l)"
}

case "${1:-}" in
  build) build ;;
  targets) echo "$TARGETS" ;;
  run)
    [ $# -ge 2 ] || { echo "usage: $0 run TARGET [libFuzzer args...]" >&2; exit 2; }
    shift
    run "$@"
    ;;
  smoke)
    secs=${2:-5}
    build
    for t in $TARGETS; do
      log=$(mktemp)
      if ! run "$t" -max_total_time="$secs" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
      fi
      summary "$t" "$log"
      rm -f "$log"
    done
    ;;
  long)
    runs=${2:-1000000}
    for t in $TARGETS; do
      log="artifacts/$t.log"
      mkdir -p artifacts
      if ! nice -n 19 "$SELF" run "$t" -runs="$runs" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
      fi
      summary "$t" "$log"
    done
    ;;
  *)
    sed -n '2,17p' "$SELF" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
