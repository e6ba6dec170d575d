#!/usr/bin/env bash
# Fails when a C++ file of the repository is not formatted as .clang-format says, naming each
# one (fix with: clang-format -i FILE). Run by ctest as "format: clang-format".
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
else
    mapfile -t files < <(find agent probes exporters tests fuzz bench -name '*.[ch]pp' 2>/dev/null)
fi
bad=0
for f in "${files[@]}"; do
    [[ -f $f ]] || continue
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f"
        bad=1
    fi
done
[[ $bad -eq 0 ]] && echo "${#files[@]} files formatted"
exit $bad
