// The allocator handed to c-ares: malloc's contract, whatever the size class.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "probes/ares_memory.hpp"

using namespace soawatch;

TEST_CASE("ares_memory: blocks are aligned, writable to their size and reused", "[ares_memory]") {
    for (std::size_t size : {1u, 15u, 16u, 17u, 200u, 4096u, 4097u, 100000u}) {
        auto* block = static_cast<unsigned char*>(ares_memory::allocate(size));
        REQUIRE(block != nullptr);
        CHECK(reinterpret_cast<std::uintptr_t>(block) % alignof(std::max_align_t) == 0);
        std::memset(block, 0xab, size);
        ares_memory::release(block);
    }
    // A released block of a class serves the next request of that class.
    void* first = ares_memory::allocate(100);
    ares_memory::release(first);
    void* second = ares_memory::allocate(120);
    CHECK(second != nullptr);
    ares_memory::release(second);
    ares_memory::release(nullptr);  // as free(nullptr)
}

TEST_CASE("ares_memory: reallocate keeps the contents, grows across classes and past them",
          "[ares_memory]") {
    auto* block = static_cast<unsigned char*>(ares_memory::reallocate(nullptr, 10));
    REQUIRE(block != nullptr);
    for (int i = 0; i < 10; ++i) block[i] = static_cast<unsigned char>(i);
    for (std::size_t size : {12u, 300u, 5000u, 70000u, 20u}) {
        block = static_cast<unsigned char*>(ares_memory::reallocate(block, size));
        REQUIRE(block != nullptr);
        for (int i = 0; i < 10; ++i) CHECK(block[i] == i);
        std::memset(block + 10, 0xcd, size - 10);
    }
    ares_memory::release(block);
}

TEST_CASE("ares_memory: a block released on another thread is kept there", "[ares_memory]") {
    std::vector<void*> blocks(2000);
    for (auto& b : blocks) b = ares_memory::allocate(64);
    std::thread other([&] {
        for (void* b : blocks) ares_memory::release(b);  // more than kMaxKept: the rest freed
        void* again = ares_memory::allocate(64);
        CHECK(again != nullptr);
        ares_memory::release(again);
    });
    other.join();  // the thread's kept blocks go back to malloc as it ends
}
