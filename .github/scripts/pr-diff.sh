#!/usr/bin/env bash
# Writes one Markdown PR comment per changed stack into OUT_DIR, plus OUT_DIR/pr-number.
# Usage: pr-diff.sh BASE_REF OUT_DIR   (PR_NUMBER in the environment)
set -euo pipefail
base=$1
out=$2
mkdir -p "$out"
printf '%s\n' "${PR_NUMBER:?}" > "$out/pr-number"
changed=$(git diff --name-only --diff-filter=d "$base"...HEAD -- 'stacks/*.yaml' 'stacks/*.yml')
# A change to the program, the renderer or the templates can change every stack's plan.
if git diff --quiet "$base"...HEAD -- modules templates pyproject.toml; then :; else
  changed=$(ls stacks/*.yaml)
fi
for stack in $changed; do
  name=$(basename "$stack" .yaml)
  if git cat-file -e "$base:$stack" 2>/dev/null; then
    netweave diff "$base:$stack" "$stack" --format markdown --out "$out/$name.md"
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
