#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target of the repository (each func Fuzz* in a
# *_test.go file), one after the other, and prints per target its exec count,
# wall time and result. It exits non-zero when any target failed; go test
# writes the failing input to the package's testdata/fuzz/<Target>/, where it
# becomes a seed that plain `go test` (and so `make test`) runs from then on.
#
# Environment:
#   FUZZTIME          per target: a duration (60s) or an exec count (1000000x); default 60s
#   FUZZ              only targets whose name matches this extended regexp; default all
#   FUZZ_PARALLEL     fuzzing workers per target; default 1 (the machine is shared)
#   FUZZ_MINIMIZETIME time spent shrinking each new interesting input; default 5s
#                     (go's 60s default stalls the exec count for minutes on 2 cores)
#   FUZZ_NICE         niceness of the runs; default 19
#
# Usage: hack/fuzz.sh          (or: make fuzz FUZZTIME=1000000x)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FUZZTIME=${FUZZTIME:-60s}
FUZZ=${FUZZ:-.}
FUZZ_PARALLEL=${FUZZ_PARALLEL:-1}
FUZZ_MINIMIZETIME=${FUZZ_MINIMIZETIME:-5s}
FUZZ_NICE=${FUZZ_NICE:-19}
GO=${GO:-go}
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/tether-fuzz.XXXXXX")

# targets prints "<package dir> <target>" for each fuzz target.
targets() {
  git ls-files '*_test.go' | xargs grep -H -o -E '^func Fuzz[A-Za-z0-9_]*\(' |
    sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#./\1 \2#' | sort -u
}

mapfile -t list < <(targets | awk -v re="$FUZZ" '$2 ~ re')
if [[ ${#list[@]} -eq 0 ]]; then
  echo "fuzz.sh: no fuzz target matches FUZZ=$FUZZ" >&2
  exit 1
fi
echo "fuzzing ${#list[@]} targets for $FUZZTIME each, $FUZZ_PARALLEL worker(s); logs in $LOGDIR"

failed=0
summary=()
for entry in "${list[@]}"; do
  read -r pkg target <<<"$entry"
  log="$LOGDIR/$target.log"
  start=$(date +%s)
  rc=0
  # No test environment: fuzz workers re-run TestMain, and a target needs none.
  TESTENV_SKIP=1 nice -n "$FUZZ_NICE" "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" \
    -fuzzminimizetime "$FUZZ_MINIMIZETIME" -parallel "$FUZZ_PARALLEL" "$pkg" >"$log" 2>&1 || rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o -E 'execs: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  execs=${execs:-0}
  if [[ $rc -eq 0 ]]; then
    result=ok
  else
    result=FAIL
    failed=1
    grep -E -- '--- FAIL|_test\.go:[0-9]+:|Failing input written|panic:' "$log" | head -n 20 | sed 's/^/    /' || true
  fi
  line=$(printf '%-6s %-24s %-32s execs %12s  %5ss' "$result" "$target" "$pkg" "$execs" "$secs")
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzz summary (FUZZTIME=$FUZZTIME):"
printf '%s\n' "${summary[@]}"
exit "$failed"
