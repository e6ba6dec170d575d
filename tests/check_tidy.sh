#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy at the top) over every .cpp of the project's compile database,
# with Clang's thread-safety analysis (-Wthread-safety: GUARDED_BY, REQUIRES and EXCLUDES of
# agent/common/thread_annotations.hpp are checked here, the GCC build ignores them). Fails on any
# warning, naming it. Run by ctest as "lint: clang-tidy".
#   tests/check_tidy.sh BUILD_DIR [FILE_REGEX]
# Environment: JOBS (parallel clang-tidy processes, default 2).
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:?usage: $0 BUILD_DIR [FILE_REGEX]}"
pattern="${2:-.}"
database="$build/compile_commands.json"
[[ -f $database ]] || { echo "no $database: configure with CMAKE_EXPORT_COMPILE_COMMANDS" >&2; exit 2; }

# The project's own sources (one file may be compiled for several targets: once is enough).
mapfile -t files < <(python3 - "$database" "$src" "$pattern" <<'EOF'
import json, os, re, sys
database, src, pattern = sys.argv[1], os.path.realpath(sys.argv[2]), re.compile(sys.argv[3])
seen = set()
for entry in json.load(open(database)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(src + os.sep) and path.endswith(".cpp") and pattern.search(path):
        seen.add(path)
print("\n".join(sorted(seen)))
EOF
)
[[ ${#files[@]} -gt 0 ]] || { echo "no source file matches '$pattern'" >&2; exit 2; }

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
start=$SECONDS
# First the canary: the analysis must find the two faults it holds, or it is not running.
canary="$src/tests/lint/thread_safety_canary.cpp"
clang-tidy --quiet --extra-arg=-Wthread-safety "$canary" -- -std=c++20 -I"$src" >"$out" 2>&1 || true
caught=$(grep -c 'requires holding mutex .* \[clang-diagnostic-thread-safety-analysis\]' "$out" || true)
if [[ $caught -ne 2 ]]; then
    cat "$out"
    echo "clang-tidy: the thread-safety analysis found $caught of the canary's 2 faults"
    exit 1
fi
# --quiet drops the "N warnings generated" lines of suppressed (non-project) warnings; what is
# left is a finding. -Wthread-safety adds the analysis to the clang-diagnostic-* checks.
printf '%s\0' "${files[@]}" |
    xargs -0 -n 1 -P "${JOBS:-2}" clang-tidy -p "$build" --quiet --extra-arg=-Wthread-safety \
        >"$out" 2>&1 || true
findings=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$out" || true)
if [[ $findings -ne 0 ]]; then
    grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' "$out"
    echo "clang-tidy: $findings findings in ${#files[@]} files ($((SECONDS - start)) s)"
    exit 1
fi
if grep -qE 'error|Error' "$out"; then
    cat "$out"
    echo "clang-tidy failed to run"
    exit 1
fi
echo "clang-tidy: ${#files[@]} files clean, thread safety included ($((SECONDS - start)) s)"
