#!/usr/bin/env bash
# Configures and builds soawatch with CMake. Used by the README's commands, CI and the container.
#   deploy/build.sh [BUILD_DIR] [extra cmake -D options...]
# Environment: SOAWATCH_BUILD_TYPE (default RelWithDebInfo), JOBS (default: number of cores).
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$src/build}"
shift || true
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE="${SOAWATCH_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}"
