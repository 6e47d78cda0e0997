#!/usr/bin/env bash
# Stage the campaign's finished experiments for a commit, with reports that match exactly what is committed.
#
#   scripts/stage_finished.sh [--deepnet PATH] [--results results/reduced]
#
# Why: while the campaign runs, results/reduced/runs/ holds finished runs of experiments that are not
# complete yet. Committing those would make a report show half an experiment; rendering reports from the
# whole folder would make committed reports disagree with committed results. So this script
#   1. finds the experiments whose every indexed run has a result file (complete),
#   2. copies every index.json plus the runs of complete experiments into a staging folder,
#   3. renders all reports (and reports/README.md with the compute ledger) from that staging folder,
#   4. `git add`s those runs, every index.json and reports/ — it never commits; review `git diff --cached`.
# A run shared by a complete and an incomplete experiment (e.g. Fig. 6's 50L cell is Table I's) is
# committed with the complete one, and the incomplete experiment's report shows it as its partial result.
set -euo pipefail

deepnet=.build/release/deepnet
results=results/reduced
while [ $# -gt 0 ]; do
  case "$1" in
    --deepnet) deepnet="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "stage_finished.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$deepnet" ] || { echo "stage_finished.sh: no deepnet binary at $deepnet (make build, or --deepnet PATH)" >&2; exit 2; }
[ -d "$results/runs" ] || { echo "stage_finished.sh: no $results/runs" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/runs"

complete=()
incomplete=()
for index in "$results"/*/index.json; do
  exp=$(basename "$(dirname "$index")")
  mkdir -p "$stage/$exp"
  cp "$index" "$stage/$exp/index.json"
  # every run's result lives at <results>/runs/<run id>.h5 (the index lists it as ../runs/<id>.h5)
  ids=$(grep -o '"runID" *: *"[0-9a-f]*"' "$index" | grep -o '[0-9a-f]\{64\}' | sort -u)
  total=0; present=0
  for id in $ids; do
    total=$((total + 1))
    if [ -f "$results/runs/$id.h5" ]; then present=$((present + 1)); fi
  done
  if [ "$total" -gt 0 ] && [ "$present" -eq "$total" ]; then
    complete+=("$exp")
    for id in $ids; do cp -n "$results/runs/$id.h5" "$stage/runs/"; done
  else
    incomplete+=("$exp ($present/$total)")
  fi
done

echo "complete:   ${complete[*]:-none}"
echo "incomplete: ${incomplete[*]:-none}"
"$deepnet" report --all --results "$stage" --out reports

git add "$results"/*/index.json reports
for f in "$stage"/runs/*.h5; do
  [ -e "$f" ] && git add "$results/runs/$(basename "$f")"
done
echo "staged $(ls "$stage"/runs | wc -l) run files; review with: git diff --cached --stat"
