#!/usr/bin/env bash
# Kill test (not in CI): N SIGKILLs at random moments of a smoke sweep of the instrumented experiments, the sweep
# rerun after each kill, then every result file compared with a clean, uninterrupted sweep.
#
#   scripts/kill_test.sh N [experiment ...]        (default: fig1 fig2 fig3 fig4 fig5 table11)
#
# Each round starts `deepnet run` at -j 1 or -j 2 (alternating; the clean sweep runs at -j 1, so this also checks
# that stored numbers do not depend on -j) and, after a random delay within the time the sweep still needs, sends
# SIGKILL either to the whole runner process group (runner and workers) or to one worker only (the runner then
# records that run as failed and the next round re-runs it). When a round's sweep completes before its kill, that
# folder is done and the next round starts a new one, until N kills have been delivered. Counted:
#   kills       SIGKILLs delivered to a live process
#   corrupt     result files that cannot be read, and temporary files left behind after the final sweeps
#   recomputed  finished (ok/diverged) result files that a later round wrote again (must never happen)
#   changed     result files whose datasets differ from the clean sweep (`deepnet compare-results`)
# Exit status 0 only when corrupt, recomputed and changed are all 0.
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
shift || true
EXPS=${*:-fig1 fig2 fig3 fig4 fig5 table11}
D=.build/release/deepnet
[ -x "$D" ] || swift build -c release >/dev/null
WORK=$(mktemp -d /tmp/deepnet-kill-test.XXXXXX)
echo "kill test: $N kills, experiments: $EXPS, work folder $WORK"

t0=$(date +%s.%N)
$D run $EXPS --profile smoke --results "$WORK/clean" -j 1 >"$WORK/clean.log" 2>&1 || { echo "clean sweep failed (see $WORK/clean.log)"; exit 2; }
clean_s=$(echo "$(date +%s.%N) - $t0" | bc)
total=$(find "$WORK/clean/runs" -maxdepth 1 -name '*.h5' | wc -l)
echo "clean sweep: $(tail -1 "$WORK/clean.log")"

rand() { python3 -c "import random; print(round(random.uniform($1, $2), 3))" 2>/dev/null || echo "0.$RANDOM"; }
finished() {  # run ids with a finished (ok or diverged) result in folder $1; "failed" records are retried by design
  [ -d "$1/runs" ] || return 0
  $D status --porcelain --results "$1" | awk '$2 == "ok" || $2 == "diverged" {print $1}'
}
snapshot() {  # "<file> <inode>:<mtime ns>" of every finished result file of folder $1
  finished "$1" | while read -r id; do find "$1/runs" -maxdepth 1 -name "$id.h5" -printf '%f %i:%T@\n'; done | sort
}
check_untouched() {  # $1 folder, $2 earlier snapshot: count finished files written again
  while read -r name stamp; do
    [ -z "$name" ] && continue
    now=$(find "$1/runs" -maxdepth 1 -name "$name" -printf '%i:%T@\n')
    [ "$now" != "$stamp" ] && { recomputed=$((recomputed + 1)); echo "  recomputed: $name"; }
  done <<<"$2"
}

kills=0; recomputed=0; folder=1; round=0
while [ "$kills" -lt "$N" ] && [ "$round" -lt $((N * 4)) ]; do
  round=$((round + 1))
  dir="$WORK/killed-$folder"
  before=$(snapshot "$dir")
  done_now=$(echo -n "$before" | grep -c . || true)
  remaining=$(echo "$clean_s * ($total - $done_now) / $total + 0.3" | bc -l)
  j=$(( round % 2 + 1 ))
  setsid $D run $EXPS --profile smoke --results "$dir" -j $j >>"$WORK/rounds.log" 2>&1 &
  pid=$!
  delay=$(rand 0.05 "$remaining")
  sleep "$delay"
  what=""
  if kill -0 "$pid" 2>/dev/null; then
    if (( RANDOM % 2 )) && worker=$(pgrep -n -f "deepnet run-one $dir/"); then
      kill -9 "$worker" 2>/dev/null && kills=$((kills + 1)) && what="worker $worker"
      sleep "$(rand 0.05 0.5)"; kill -9 -- -"$pid" 2>/dev/null   # then end the round
    else
      kill -9 -- -"$pid" 2>/dev/null && kills=$((kills + 1)) && what="runner and workers"
    fi
  fi
  wait "$pid" 2>/dev/null
  check_untouched "$dir" "$before"
  if [ -n "$what" ]; then
    echo "round $round (folder $folder, -j $j): SIGKILL to $what after ${delay}s"
  else
    echo "round $round (folder $folder, -j $j): sweep completed before its kill; next folder"
    folder=$((folder + 1))
  fi
done

changed=0; corrupt=0
for dir in "$WORK"/killed-*; do
  before=$(snapshot "$dir")
  $D run $EXPS --profile smoke --results "$dir" -j 1 >"$dir.final.log" 2>&1 || echo "final sweep of $dir failed (see $dir.final.log)"
  check_untouched "$dir" "$before"
  $D compare-results "$WORK/clean" "$dir" >"$dir.compare.log" 2>&1
  echo "$(basename "$dir"): $(tail -1 "$dir.compare.log")"
  corrupt=$((corrupt + $(grep -c "unreadable" "$dir.compare.log") + $(find "$dir" -name '.*.tmp-*' | wc -l)))
  changed=$((changed + $(grep -cE "difference\(s\)|only in" "$dir.compare.log")))
done
echo "kill test: kills $kills, corrupt $corrupt, recomputed $recomputed, changed $changed"
[ $((corrupt + recomputed + changed)) -eq 0 ]
