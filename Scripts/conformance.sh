#!/bin/bash
# Runs the OCI runtime-tools validation suite against one or more runtimes and prints one row per
# program with pass/fail per runtime, then totals. See Docs/conformance.md for building the suite.
#
#   Scripts/conformance.sh [--timeout SECS] [--markdown FILE] [--logs DIR] [--only NAME[,NAME...]]
#                          PATH_TO_RUNTIME_TOOLS [RUNTIME...]
#
# RUNTIME is NAME=PATH or PATH (the name is then the file's base name). Without any, the runtimes are
# this repository's release cella-runtime, runc, and crun through a wrapper (written to a temp dir)
# that unmounts the cgroup2 part of a hybrid host in a private mount namespace (crun refuses a hybrid
# host) and lowers the bundle's ociVersion to one crun 1.8 accepts.
#
# A program passes when it exits 0 within the timeout and prints no TAP `not ok` line. A cell reads
# `pass`, `FAIL n` (n `not ok` lines), `exit c` (non-zero exit, no `not ok` line) or `timeout`.
# Each program's output is kept in the logs directory (a temp dir unless --logs is given).
# Nothing is written inside the repository unless --markdown names a file there.
set -u

timeout_secs=120
markdown=""
logs=""
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_secs="$2"; shift 2 ;;
	--markdown) markdown="$2"; shift 2 ;;
	--logs) logs="$2"; shift 2 ;;
	--only) only="$2"; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "conformance.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -lt 1 ]; then
	echo "usage: conformance.sh [--timeout SECS] [--markdown FILE] [--logs DIR] [--only NAMES] PATH_TO_RUNTIME_TOOLS [RUNTIME...]" >&2
	exit 2
fi
case "$timeout_secs" in '' | *[!0-9]*) echo "conformance.sh: --timeout: not a number: $timeout_secs" >&2; exit 2 ;; esac

tools=$(cd "$1" 2>/dev/null && pwd) || { echo "conformance.sh: $1: no such directory" >&2; exit 2; }
shift
if [ ! -x "$tools/runtimetest" ]; then
	echo "conformance.sh: $tools/runtimetest: missing; run 'make runtimetest validation-executables' there" >&2
	exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d /tmp/cella-conformance.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
if [ -z "$logs" ]; then
	logs=$(mktemp -d /tmp/cella-conformance-logs.XXXXXX)
fi
mkdir -p "$logs" || exit 2

names=()
paths=()
add_runtime() {
	local spec="$1" name path
	case "$spec" in
	*=*) name="${spec%%=*}"; path="${spec#*=}" ;;
	*) name=$(basename "$spec"); path="$spec" ;;
	esac
	case "$path" in /*) ;; *) path="$(pwd)/$path" ;; esac
	if [ ! -x "$path" ]; then
		echo "conformance.sh: runtime $name: $path is not an executable" >&2
		exit 2
	fi
	names+=("$name")
	paths+=("$path")
}
if [ $# -eq 0 ]; then
	add_runtime "cella=$repo/.build/release/cella-runtime"
	add_runtime "runc=$(command -v runc || echo /usr/sbin/runc)"
	crun_path=$(command -v crun || echo /usr/bin/crun)
	# crun before 1.9 refuses an ociVersion other than 1.0.x or 1.1.x ("unknown version specified")
	# and the suite writes 1.3.0: for create and run, the wrapper rewrites the bundle's ociVersion
	# to 1.1.0 so that crun is judged on what the tests check, not on the version string.
	cat >"$scratch/crun" <<-EOF
		#!/bin/sh
		bundle=.
		verb=
		prev=
		for arg in "\$@"; do
			case "\$prev" in --bundle | -b) bundle="\$arg" ;; esac
			case "\$arg" in --bundle=*) bundle="\${arg#--bundle=}" ;; create | run) [ -z "\$verb" ] && verb=\$arg ;; esac
			prev="\$arg"
		done
		if [ -n "\$verb" ] && [ -f "\$bundle/config.json" ]; then
			sed -i -E 's/"ociVersion"[[:space:]]*:[[:space:]]*"1\.[2-9]\.[^"]*"/"ociVersion":"1.1.0"/' "\$bundle/config.json"
		fi
		exec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "\$0" "\$@"' "$crun_path" "\$@"
	EOF
	chmod +x "$scratch/crun"
	add_runtime "crun=$scratch/crun"
else
	for spec in "$@"; do add_runtime "$spec"; done
fi

programs=()
for t in "$tools"/validation/*/*.t; do
	[ -x "$t" ] || continue
	name=$(basename "$t" .t)
	if [ -n "$only" ] && ! printf ',%s,' "$only" | grep -q ",$name,"; then continue; fi
	programs+=("$name")
done
if [ ${#programs[@]} -eq 0 ]; then
	echo "conformance.sh: no validation programs under $tools/validation (build them with 'make validation-executables')" >&2
	exit 2
fi

# One cell: runs one program against one runtime, one at a time, from the suite's directory (the
# programs read rootfs-<arch>.tar.gz and runtimetest from their working directory).
run_one() {
	local program="$1" name="$2" path="$3" log status failures
	log="$logs/$name/$program.tap"
	mkdir -p "$logs/$name"
	(cd "$tools" && RUNTIME="$path" timeout --kill-after=10 "$timeout_secs" \
		"validation/$program/$program.t" </dev/null >"$log" 2>&1)
	status=$?
	failures=$(grep -c '^not ok' "$log")
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "timeout"
	elif [ "$failures" -gt 0 ]; then
		echo "FAIL $failures"
	elif [ "$status" -ne 0 ]; then
		echo "exit $status"
	else
		echo "pass"
	fi
}

width=8
for n in "${names[@]}"; do [ ${#n} -ge $width ] && width=$((${#n} + 1)); done
header=$(printf '%-36s' program)
md_header="| program |"
md_rule="|---|"
for n in "${names[@]}"; do
	header+=$(printf ' %-*s' "$width" "$n")
	md_header+=" $n |"
	md_rule+="---|"
done
echo "$header"
md_rows=""
declare -A passed
for n in "${names[@]}"; do passed[$n]=0; done
for program in "${programs[@]}"; do
	row=$(printf '%-36s' "$program")
	md_row="| $program |"
	for i in "${!names[@]}"; do
		cell=$(run_one "$program" "${names[$i]}" "${paths[$i]}")
		[ "$cell" = pass ] && passed[${names[$i]}]=$((passed[${names[$i]}] + 1))
		row+=$(printf ' %-*s' "$width" "$cell")
		md_row+=" $cell |"
	done
	echo "$row"
	md_rows+="$md_row"$'\n'
done
total=$(printf '%-36s' "passed (of ${#programs[@]})")
md_total="| **passed (of ${#programs[@]})** |"
for n in "${names[@]}"; do
	total+=$(printf ' %-*s' "$width" "${passed[$n]}")
	md_total+=" **${passed[$n]}** |"
done
echo "$total"
echo "logs: $logs"

if [ -n "$markdown" ]; then
	printf '%s\n%s\n%s%s\n' "$md_header" "$md_rule" "$md_rows" "$md_total" >"$markdown"
fi
