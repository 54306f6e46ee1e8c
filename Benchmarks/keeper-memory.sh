#!/bin/sh
# Memory of cella-keeper: starts N keepers, each keeping a real busybox guest (`sleep`) made by
# cella-runtime, and prints the mean PSS and private dirty memory per keeper (/proc/PID/smaps_rollup).
# Usage: Benchmarks/keeper-memory.sh [N]   (root; python3. KEEPER=path skips building the release keeper,
# CELLA_RUNTIME=path the release runtime, HOLD=seconds keeps them that long after the report for a look.)
set -eu
cd "$(dirname "$0")/.."
n=${1:-50}
if [ -z "${KEEPER:-}" ]; then
  swift build -c release --product cella-keeper >/dev/null
  KEEPER=$PWD/.build/release/cella-keeper
fi
if [ -z "${CELLA_RUNTIME:-}" ]; then
  swift build -c release --static-swift-stdlib --product cella-runtime >/dev/null
  CELLA_RUNTIME=$PWD/.build/release/cella-runtime
fi
KEEPER=$(readlink -f "$KEEPER")
work=$(mktemp -d /tmp/cella-bench-XXXXXX)
run=$work/run
ids=""
keeper_pids=""
cleanup() {
  for id in $ids; do "$CELLA_RUNTIME" --root "$run" delete --force "$id" >/dev/null 2>&1 || true; done
  # Each keeper sees its guest end and exits; wait for that before its directory goes.
  t=0
  for p in $keeper_pids; do
    while kill -0 "$p" 2>/dev/null && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
RootFS/busybox.sh "$work/rootfs" >/dev/null
"$CELLA_RUNTIME" spec --bundle "$work"
python3 - "$work" "$$" "$n" <<'PY'
import json, os, sys
work, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.load(open(work + "/config.json"))
c["root"] = {"path": work + "/rootfs", "readonly": True}
c["process"]["terminal"] = True
c["process"]["args"] = ["sleep", "100000"]
for i in range(n):
    os.makedirs(f"{work}/guests/{i}/bundle")
    c["linux"]["cgroupsPath"] = f"/cella-bench-{tag}/cella-bench-{tag}-{i}"
    json.dump(c, open(f"{work}/guests/{i}/bundle/config.json", "w"), indent=1)
PY
i=0
while [ $i -lt "$n" ]; do
  id=cella-bench-$$-$i
  dir=$work/guests/$i
  ids="$ids $id"
  # As the daemon does: new session, cwd the guest dir, the result line on stdout.
  (cd "$dir" && exec setsid "$KEEPER" --runtime "$CELLA_RUNTIME" --root "$run" --id "$id" --bundle bundle \
    --log-max 1048576 </dev/null >result 2>>keeper.log &)
  t=0
  until [ -s "$dir/result" ] || [ $t -ge 6000 ]; do sleep 0.01; t=$((t + 1)); done
  case $(cat "$dir/result") in
  ok*) ;;
  *) echo "keeper $i failed: $(cat "$dir/result") $(tail -1 "$dir/keeper.log") $(tail -1 "$dir/runtime.log" 2>/dev/null)" >&2; exit 1 ;;
  esac
  i=$((i + 1))
done
# The keepers: the processes whose cwd is a guest dir and whose executable is the keeper.
keeper_pids=$(for p in /proc/[0-9]*; do
  [ "$(readlink "$p/exe" 2>/dev/null)" = "$KEEPER" ] || continue
  case $(readlink "$p/cwd") in "$work"/guests/*) echo "${p#/proc/}" ;; esac
done)
count=$(echo "$keeper_pids" | wc -w)
[ "$count" -eq "$n" ] || { echo "expected $n keepers, found $count" >&2; exit 1; }
for p in $keeper_pids; do cat "/proc/$p/smaps_rollup"; done | awk -v n="$n" -v bin="$KEEPER" '
  /^Pss:/ { pss += $2 } /^Private_Dirty:/ { dirty += $2 } /^Rss:/ { rss += $2 }
  END { printf "%d keepers (%s): PSS %.0f KiB each, RSS %.0f KiB, private dirty %.0f KiB\n", n, bin, pss / n, rss / n, dirty / n }'
sleep "${HOLD:-0}"
