// Transparent huge pages for malloc's heaps, asked for at start-up. A cold round (`soawatch
// check`, the agent's first round) touches its memory for the first time: at 100,000 zones
// 47,000 page faults, each a trap into the kernel, where glibc's `glibc.malloc.hugetlb=1`
// tunable (madvise(MADV_HUGEPAGE) on the heaps) takes one fault per 2 MiB. Measured, 100,000
// zones against the bench lab: the round's CPU 15% lower, its time about 10%
// (docs/PERFORMANCE.md, "Huge pages for the heap"). glibc reads tunables only from the
// environment at exec, so the program executes itself once more with the tunable added; the
// PID, arguments, descriptors and the rest of the environment stay. When it is skipped:
// docs/CONFIG.md ("Huge pages"), and tunables_with_huge_pages and ask_for_huge_pages below.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

// Setting SOAWATCH_MALLOC_HUGE_PAGES=0 leaves malloc as it is.
inline constexpr const char* kHugePagesOptOut = "SOAWATCH_MALLOC_HUGE_PAGES";

// The GLIBC_TUNABLES to execute with, or none when the environment is to stay as it is:
// opted out, the tunable given already (an operator's choice, and what ends the second
// start), a preloaded library (LD_PRELOAD: valgrind, heaptrack, jemalloc or tcmalloc put
// their own malloc there, and a tool that does not follow an exec would lose its program), or a
// kernel whose THP mode (/sys/kernel/mm/transparent_hugepage/enabled) is "never" or unknown.
std::optional<std::string> tunables_with_huge_pages(const char* tunables, const char* opt_out,
                                                    const char* ld_preload,
                                                    std::string_view thp_enabled);

// First thing in main: executes the program's file again (the path it was started by, so that
// its name stays) with the tunable when tunables_with_huge_pages says so; not for a
// set-user-ID or file-capabilities start, nor when that path is not the file running (started
// through ld.so or by a descriptor, or replaced since). Returns when it does not or cannot (the
// program then runs as it is).
void ask_for_huge_pages(char** argv);

}  // namespace soawatch
