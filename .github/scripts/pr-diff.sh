#!/usr/bin/env bash
# Writes one Markdown PR comment per changed stack into OUT_DIR, plus OUT_DIR/pr-number.
# Usage: pr-diff.sh BASE_REF OUT_DIR   (PR_NUMBER in the environment)
# FAIL_ON_LOSS (default true): exit 1 after writing every comment when a stack loses
# reachability or breaks an intent rule, so the PR check is red next to the comment.
set -euo pipefail
base=$1
out=$2
fail_on_loss=${FAIL_ON_LOSS:-true}
case "$fail_on_loss" in true|false) ;; *) echo "FAIL_ON_LOSS must be true or false, not '$fail_on_loss'" >&2; exit 2;; esac
mkdir -p "$out"
printf '%s\n' "${PR_NUMBER:?}" > "$out/pr-number"
changed=$(git diff --name-only --diff-filter=d "$base"...HEAD -- 'stacks/*.yaml' 'stacks/*.yml')
# A change to the program, the renderer or the templates can change every stack's plan.
if git diff --quiet "$base"...HEAD -- modules templates pyproject.toml; then :; else
  changed=$(ls stacks/*.yaml)
fi
lost=()
for stack in $changed; do
  name=$(basename "$stack" .yaml)
  if git cat-file -e "$base:$stack" 2>/dev/null; then
    status=0
    netweave diff "$base:$stack" "$stack" --format markdown --fail-on-loss --out "$out/$name.md" || status=$?
    case $status in
      0) ;;
      1) lost+=("$name") ;;
      *) echo "netweave diff of $stack failed (exit $status)" >&2; exit "$status" ;;
    esac
  else
    # a new stack: its plan is the whole change
    {
      echo "<!-- netweave-diff stack=$name -->"
      echo "## netweave: new stack \`$name\`"
      echo
      netweave plan "$stack" --format markdown || echo "_The program refuses this stack: see the lint annotations._"
    } > "$out/$name.md"
  fi
  echo "wrote $out/$name.md"
done
if [ ${#lost[@]} -gt 0 ]; then
  for name in "${lost[@]}"; do
    echo "::error title=netweave diff::stack $name loses reachability or breaks an intent rule (see the PR comment)"
  done
  if [ "$fail_on_loss" = true ]; then exit 1; fi
fi
