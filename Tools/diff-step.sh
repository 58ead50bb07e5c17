#!/usr/bin/env bash
# Prints what step N adds to step N-1 as a unified diff: files of step N that step N-1 also has
# (Model.swift, main.swift) as changes, and files new in step N (the new concept) as additions.
# Files only in step N-1 are left out: step N still uses them through its import.
# Usage: Tools/diff-step.sh N   (1…10, from the package root)
set -euo pipefail
cd "$(dirname "$0")/.."
number=${1:-}
if ! [[ "$number" =~ ^[0-9]+$ ]] || [ "$((10#$number))" -lt 1 ] || [ "$((10#$number))" -gt 10 ]; then
    echo "usage: $0 N   (N is a step number from 1 to 10; step 0 has no predecessor)" >&2
    exit 2
fi
current=$(ls -d Steps/Step"$(printf '%02d' "$((10#$number))")"*)
previous=$(ls -d Steps/Step"$(printf '%02d' "$((10#$number - 1))")"*)
echo "# What $(basename "$current") adds to $(basename "$previous")"
(cd "$current" && find Library Program -name '*.swift' | sort) | while read -r file; do
    if [ -f "$previous/$file" ]; then
        diff -u --label "$previous/$file" --label "$current/$file" "$previous/$file" "$current/$file" || true
    else
        diff -u --label /dev/null --label "$current/$file" /dev/null "$current/$file" || true
    fi
done
