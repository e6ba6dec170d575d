#include "probes/ares_memory.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace soawatch::ares_memory {

namespace {

// Each block starts with a header naming its size class and payload, so release() and
// reallocate() need no size. 16 bytes keep the payload aligned as malloc's is.
struct alignas(16) Header {
    std::uint32_t size_class;
    std::size_t payload;
};
static_assert(sizeof(Header) == 16);

constexpr std::uint32_t kClasses = 9;  // payloads of 16, 32, ... 4096 bytes
constexpr std::uint32_t kUnpooled = 0xffffffff;
constexpr std::size_t payload_of(std::uint32_t size_class) {
    return std::size_t{16} << size_class;
}

std::uint32_t class_for(std::size_t size) {
    std::uint32_t c = 0;
    while (c < kClasses && payload_of(c) < size) ++c;
    return c < kClasses ? c : kUnpooled;
}

// A free block's payload holds the next free block of its class.
struct FreeLists {
    std::array<void*, kClasses> head{};
    std::array<std::size_t, kClasses> count{};
    bool open = true;  // false once the thread's exit has emptied it: blocks go to malloc

    ~FreeLists() {  // the thread ends: its kept blocks go back to malloc
        open = false;
        for (std::uint32_t c = 0; c < kClasses; ++c) {
            void* block = head[c];
            while (block) {
                void* next = nullptr;
                std::memcpy(&next, block, sizeof next);
                std::free(static_cast<Header*>(block) - 1);
                block = next;
            }
            head[c] = nullptr;
            count[c] = 0;
        }
    }
};

thread_local FreeLists free_lists;

// Under AddressSanitizer every block goes back to malloc at once, so a use after free inside
// c-ares is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif

// Blocks of a class kept at most: kMaxKept, and no more than kMaxKeptBytes of them.
constexpr std::size_t max_kept(std::uint32_t size_class) {
    const std::size_t by_bytes = kMaxKeptBytes / payload_of(size_class);
    return kPooled ? (by_bytes < kMaxKept ? by_bytes : kMaxKept) : 0;
}

}  // namespace

void* allocate(std::size_t size) {
    const std::uint32_t c = class_for(size);
    if (c != kUnpooled) {
        FreeLists& lists = free_lists;
        if (void* block = lists.open ? lists.head[c] : nullptr) {
            std::memcpy(&lists.head[c], block, sizeof(void*));
            --lists.count[c];
            return block;
        }
    }
    const std::size_t payload = c == kUnpooled ? size : payload_of(c);
    auto* header = static_cast<Header*>(std::malloc(sizeof(Header) + payload));
    if (!header) return nullptr;
    header->size_class = c;
    header->payload = payload;
    return header + 1;
}

void release(void* block) {
    if (!block) return;
    Header* header = static_cast<Header*>(block) - 1;
    const std::uint32_t c = header->size_class;
    if (c != kUnpooled) {
        // A block may be released on another thread than the one that allocated it: it joins
        // this thread's list (the classes are the same everywhere).
        FreeLists& lists = free_lists;
        if (lists.open && lists.count[c] < max_kept(c)) {
            std::memcpy(block, &lists.head[c], sizeof(void*));
            lists.head[c] = block;
            ++lists.count[c];
            return;
        }
    }
    std::free(header);
}

void* reallocate(void* block, std::size_t size) {
    if (!block) return allocate(size);
    const std::size_t old_payload = (static_cast<Header*>(block) - 1)->payload;
    if (size <= old_payload) return block;  // it fits where it is
    void* bigger = allocate(size);
    if (!bigger) return nullptr;  // realloc's contract: the old block stays valid
    std::memcpy(bigger, block, old_payload);
    release(block);
    return bigger;
}

}  // namespace soawatch::ares_memory
