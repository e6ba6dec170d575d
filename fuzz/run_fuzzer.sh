#!/usr/bin/env bash
# Fuzzes one target for a bounded time: the "fuzz-run: NAME" ctest tests (fuzz/CMakeLists.txt).
#   run_fuzzer.sh NAME SECONDS SOURCE_DIR CLANG_BUILD_DIR DICT_OR_EMPTY CORPUS_DIR...
# Builds every libFuzzer binary with clang in CLANG_BUILD_DIR (once; concurrent runs wait on a
# lock), then runs NAME_fuzz for SECONDS on a scratch copy of the corpus, so the committed
# corpus is never written. A crash, leak, timeout or out-of-memory fails the test and leaves the
# input in CLANG_BUILD_DIR/artifacts/ with the command that reproduces it. Exits 77 (ctest:
# skipped) when clang++ or libFuzzer is not installed. FUZZ_CXX names another clang++.
set -euo pipefail

name=$1 seconds=$2 src=$3 build=$4 dict=$5
shift 5
corpora=("$@")

skip() { echo "fuzz-run $name: SKIPPED: $*"; exit 77; }

cxx=${FUZZ_CXX:-clang++}
command -v "$cxx" >/dev/null || skip "$cxx not found (Debian: apt-get install clang libclang-rt-14-dev)"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$probe_dir/probe.cpp"
"$cxx" -fsanitize=fuzzer "$probe_dir/probe.cpp" -o "$probe_dir/probe" 2>"$probe_dir/err" ||
    skip "$cxx cannot link libFuzzer (Debian: apt-get install libclang-rt-14-dev): $(head -c 300 "$probe_dir/err")"

mkdir -p "$build"
(
    flock -w 900 9 || { echo "fuzz-run $name: timed out waiting for the clang build lock"; exit 1; }
    if [[ ! -f $build/CMakeCache.txt ]]; then
        echo "fuzz-run $name: configuring the clang build in $build"
        # The project's own -fsanitize flags stay off: the fuzz targets carry their own.
        CXX=$cxx cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DSOAWATCH_FUZZ=ON -DSOAWATCH_FUZZ_SECONDS=0 >"$build/configure.log" 2>&1 ||
            { cat "$build/configure.log"; exit 1; }
    fi
    targets=()
    for f in "$src"/fuzz/*_fuzz.cpp; do t=$(basename "$f" .cpp); targets+=(--target "$t"); done
    echo "fuzz-run $name: building ${#targets[@]} fuzz targets with clang"
    cmake --build "$build" -j"${JOBS:-2}" "${targets[@]}" >"$build/build.log" 2>&1 ||
        { tail -n 60 "$build/build.log"; exit 1; }
) 9>"$build.lock"

binary=$build/fuzz/${name}_fuzz
[[ -x $binary ]] || { echo "fuzz-run $name: $binary was not built"; exit 1; }

work=$build/runs/$name
artifacts=$build/artifacts/$name
rm -rf "$work"
mkdir -p "$work/corpus" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65535
      -print_final_stats=1 -artifact_prefix="$artifacts/")
[[ -n $dict ]] && args+=(-dict="$dict")
echo "fuzz-run $name: fuzzing for ${seconds}s from ${corpora[*]}"
set +e
# A leak report needs LSan; the target's own ASAN_OPTIONS from the caller apply.
"$binary" "${args[@]}" "$work/corpus" "${corpora[@]}" >"$work/log" 2>&1
status=$?
set -e
tail -n 25 "$work/log"
if (( status != 0 )); then
    echo
    echo "fuzz-run $name: FAILED (exit $status). Inputs that broke it:"
    ls -l "$artifacts"
    echo "Reproduce: $binary $artifacts/<file>"
    echo "Then fix the bug and add the input to the corpus: cp $artifacts/<file> $src/fuzz/corpus/$name/"
    exit 1
fi
echo "fuzz-run $name: no crash, leak or hang in ${seconds}s"
