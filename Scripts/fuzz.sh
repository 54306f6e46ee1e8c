#!/bin/sh
# Fuzzes what `create` decides before it touches the host (decode, validate, plan) with libFuzzer for
# SECONDS (default 120). Builds Sources/cella-fuzz with -sanitize=fuzzer into .build-fuzz, seeds the
# corpus with Fuzz/seeds and the default config of `cella-runtime spec`, and exits non-zero when an
# input traps or breaks the one-line error rule; the input is saved as .build-fuzz/artifacts/crash-*
# (replay it with: swift build --product cella-fuzz && .build/debug/cella-fuzz FILE).
set -eu
cd "$(dirname "$0")/.."
PATH=$PATH:/opt/swift/usr/bin
seconds=${1:-120}

swift build -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library \
  -Xswiftc -DCELLA_FUZZING --product cella-fuzz
swift build --product cella-runtime

# libFuzzer adds what it finds to the first corpus directory: a scratch copy keeps the seeds as they are.
corpus=.build-fuzz/corpus
mkdir -p "$corpus" .build-fuzz/artifacts
cp Fuzz/seeds/*.json "$corpus/"
spec=$(mktemp -d)
trap 'rm -rf "$spec"' EXIT
.build/debug/cella-runtime spec --bundle "$spec"
cp "$spec/config.json" "$corpus/default-spec.json"

# Swift's own backtracer would catch the trap first and libFuzzer would save no crash input.
export SWIFT_BACKTRACE=enable=no
# -timeout: one input (a seccomp profile compiles in ~35 ms) taking seconds is a hang worth reporting.
.build-fuzz/debug/cella-fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  -dict=Fuzz/config.dict -artifact_prefix=.build-fuzz/artifacts/ "$corpus"
echo "fuzz: no crash in ${seconds}s"
