#!/bin/sh
# The whole test suite: format check, build, unit and integration tests (as root), leak check.
set -u
cd "$(dirname "$0")/.."
PATH=$PATH:/opt/swift/usr/bin
failed=0
step() { echo "== $*"; }

step "format (swift format lint --strict)"
if ! swift format lint --strict -r Package.swift Sources Tests; then
  echo "format: run 'swift format -i -r Package.swift Sources Tests'" >&2
  failed=$((failed + 1))
fi

step "build"
swift build --build-tests || exit 1

step "busybox rootfs"
RootFS/busybox.sh .build/test-rootfs || exit 1
export CELLA_RUNTIME="$PWD/.build/debug/cella-runtime"
# Everything the tests make on the host is named after this run (state roots, cgroups, container ids),
# so the leak check looks at nothing else: other containers on the host do not fail the suite.
CELLA_TEST_RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export CELLA_TEST_RUN
export CELLA_TEST_ROOTFS="$PWD/.build/test-rootfs"

step "tests"
log=$(mktemp)
swift test --skip-build 2>&1 | tee "$log"
status=$?
summary=$(grep -E "^Test Suite 'All tests' (passed|failed)" -A1 "$log" | grep -E "Executed [0-9]+ test" | tail -1)
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failures=$(echo "$summary" | grep -oE "[0-9]+ failures?" | grep -oE "[0-9]+" | head -1)
skipped=$(echo "$summary" | grep -oE "[0-9]+ tests? skipped" | grep -oE "[0-9]+" | head -1)
rm -f "$log"
[ -n "$total" ] && [ -n "$failures" ] || { total=${total:-0}; failures=1; }
[ "$status" -eq 0 ] || [ "$failures" -gt 0 ] || failures=1

step "leak check"
Scripts/leak-check.sh "$CELLA_TEST_RUN" || failed=$((failed + 1))

failed=$((failed + failures))
echo "cella: $((total - failures - ${skipped:-0})) passed, $failed failed${skipped:+, $skipped skipped}"
[ "$failed" -eq 0 ]
