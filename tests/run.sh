#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs, builds the tests
# with AddressSanitizer + UndefinedBehaviorSanitizer (warnings are errors), and runs every unit,
# integration and corpus-replay test with ctest. Needs root (apt-get, loopback addresses for
# the lab's BIND servers); re-runs itself with sudo when it is not root.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then exec sudo -E bash "$0" "$@"; fi

"$src/deploy/install-deps.sh" test
build="${SOAWATCH_TEST_BUILD_DIR:-$src/build-tests}"
SOAWATCH_BUILD_TYPE=Debug "$src/deploy/build.sh" "$build" -DSOAWATCH_SANITIZE=ON -DSOAWATCH_WERROR=ON \
    -DSOAWATCH_LAB_BASE="${SOAWATCH_LAB_BASE:-20}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
ctest --output-on-failure -j"${JOBS:-2}" --timeout 900 "$@"
