#!/bin/bash
# Runs the Nexmark example jobs (examples/nexmark.cc) and checks each result
# line by line against the brute-force reference (reference.py) over the same
# recorded events.
#
#   queries_test.sh <build-dir> [--events N] [--rate R] [--parallelism "1 2"]
#                   [--queries "q0 q1 ..."] [--run "<sluice run options>"] [--work <dir>]
#
# --run defaults to --local (the job in the sluice process); give it
# "-m host:port" to submit to a cluster. q4 and q6 emit every update of their
# result: the last line per key is compared.
set -euo pipefail

build=$1
shift
events=300000
rate=5000  # 60 s of event time: six q7 windows, 30 q5 windows
parallelism="1 2"
queries="q0 q1 q2 q3 q4 q5 q6 q7 q8 q9 q11"
run="--local"
work=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --events) events=$2 ;;
    --rate) rate=$2 ;;
    --parallelism) parallelism=$2 ;;
    --queries) queries=$2 ;;
    --run) run=$2 ;;
    --work) work=$2 ;;
    *) echo "queries_test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z $work ]]; then
  work=$(mktemp -d /tmp/sluice-nexmark.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

"$build/bin/nexmark_events" --events "$events" --rate "$rate" > "$work/events.txt"
failed=0
for q in $queries; do
  python3 "$here/reference.py" "$q" "$work/events.txt" > "$work/expected-$q.txt"
  for p in $parallelism; do
    out="$work/out-$q-p$p"
    rm -rf "$out"
    # shellcheck disable=SC2086  # $run holds several options
    if ! timeout 300 "$build/bin/sluice" run $run -p "$p" -c "NexmarkQ${q#q}" \
        "$build/examples/libsluice_examples.so" -- --events "$events" --rate "$rate" \
        --output "$out" > "$work/log-$q-p$p.txt" 2>&1; then
      echo "$q p$p: the job failed:"
      tail -5 "$work/log-$q-p$p.txt"
      failed=1
      continue
    fi
    case $q in
      q4 | q6)
        for f in "$out"/part-*; do
          awk -F, '{ last[$1] = $0 } END { for (k in last) print last[k] }' "$f"
        done ;;
      *) cat "$out"/part-* ;;
    esac | LC_ALL=C sort > "$work/got-$q-p$p.txt"
    if cmp -s "$work/got-$q-p$p.txt" "$work/expected-$q.txt"; then
      echo "$q p$p: OK, $(wc -l < "$work/expected-$q.txt") lines as expected"
    else
      echo "$q p$p: DIFFERENT: $(wc -l < "$work/got-$q-p$p.txt") lines," \
        "$(wc -l < "$work/expected-$q.txt") expected; first differences:"
      diff "$work/got-$q-p$p.txt" "$work/expected-$q.txt" | head -6 || true
      failed=1
    fi
  done
done
exit $failed
