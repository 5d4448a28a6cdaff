#!/usr/bin/env bash
# RUSTC_WRAPPER for fuzz builds (fuzz/run.sh build): coverage instrumentation for Meshline's
# own crates only (packages named meshline*). For every other crate (tokio, salsa, regex,
# pest, serde, jiff, tower-lsp …) the SanitizerCoverage flags are dropped from the command
# line. Their edges only slowed every execution down: libFuzzer looks up each counter an
# input touched in its feature tables, and the dependencies' counters were most of them,
# the same ones for every input (docs/reliability.md, "Instrumentation").
# Generic dependency code instantiated in a Meshline crate is compiled, and so instrumented,
# there.
rustc=$1
shift
case "${CARGO_PKG_NAME:-}" in
  meshline*) exec "$rustc" "$@" ;;
esac
args=()
for a in "$@"; do
  case "$a" in
    -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-* | \
      -Cllvm-args=-simplifycfg-branch-fold-threshold=0) ;;
    *) args+=("$a") ;;
  esac
done
exec "$rustc" "${args[@]}"
