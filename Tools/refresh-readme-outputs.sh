#!/usr/bin/env bash
# Reruns the commands behind the output blocks of the given Markdown files and writes their real
# output into the files. A block is marked by a comment line naming the command, directly followed by
# a fenced block that the script replaces:
#
#   <!-- output: swift run Step00Bigram --text "abababababab" --start a -->
#   ```text
#   (replaced by what the command prints)
#   ```
#
# `swift run NAME` is run as the debug binary .build/debug/NAME, built once beforehand, so the
# output has no build log. Standard error is included, so error messages can be shown too.
# Usage: Tools/refresh-readme-outputs.sh README.md [MORE.md …]   (from the package root)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 FILE.md [FILE.md …]" >&2; exit 2; }
swift build >/dev/null

for file in "$@"; do
    output_file=$(mktemp)
    in_block=0 pending=""
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$in_block" = 1 ]; then
            # Skip the old block up to and including its closing fence.
            [[ "$line" == '```' ]] && in_block=0
            continue
        fi
        printf '%s\n' "$line" >>"$output_file"
        if [[ "$line" =~ ^\<!--\ output:\ (.*)\ --\>$ ]]; then
            pending=${BASH_REMATCH[1]}
            continue
        fi
        if [ -n "$pending" ] && [[ "$line" == '```'* ]]; then
            command=$(printf '%s' "$pending" | sed -E 's#swift run ([A-Za-z0-9]+)#.build/debug/\1#g')
            echo "running: $pending" >&2
            NO_COLOR=1 bash -c "$command" 2>&1 </dev/null | sed -E 's/\x1b\[[0-9;]*m//g' >>"$output_file" || true
            printf '```\n' >>"$output_file"
            in_block=1 pending=""
            continue
        fi
        pending=""
    done <"$file"
    mv "$output_file" "$file"
done
