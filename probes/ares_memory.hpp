// The allocator c-ares uses (ares_library_init_mem): free lists per size class and thread in
// front of malloc.
//
// c-ares 1.18 allocates about five blocks per query (the query, a copy of its message, list
// nodes, the question names it compares) and frees them when the answer comes. A round sends
// queries in bursts of hundreds: glibc's per-thread cache keeps 7 blocks per size, so most of
// them took malloc's slow path, which also consolidates its fast bins (docs/PERFORMANCE.md).
#pragma once

#include <cstddef>

namespace soawatch::ares_memory {

void* allocate(std::size_t size);
void release(void* block);
void* reallocate(void* block, std::size_t size);

// Blocks kept per size class and thread, at most: a burst's blocks serve the next burst. At most
// kMaxKeptBytes of payload a class, so a thread keeps at most about 2.3 MiB (9 classes).
inline constexpr std::size_t kMaxKept = 1024;
inline constexpr std::size_t kMaxKeptBytes = std::size_t{256} * 1024;

}  // namespace soawatch::ares_memory
