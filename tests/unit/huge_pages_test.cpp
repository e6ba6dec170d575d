#include <catch2/catch.hpp>

#include "agent/cli/huge_pages.hpp"

using soawatch::tunables_with_huge_pages;

TEST_CASE("huge pages: the tunable added to what GLIBC_TUNABLES has", "[huge-pages]") {
    const char* madvise = "always [madvise] never\n";
    CHECK(tunables_with_huge_pages(nullptr, nullptr, nullptr, madvise) == "glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages("", nullptr, "", madvise) == "glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages("glibc.malloc.arena_max=2", nullptr, nullptr, madvise) ==
          "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages(nullptr, "1", nullptr, "[always] madvise never\n") ==
          "glibc.malloc.hugetlb=1");
}

TEST_CASE("huge pages: left as it is when given, opted out, preloaded or without THP",
          "[huge-pages]") {
    const char* madvise = "always [madvise] never\n";
    // Given already: the operator's value, and what ends the second start.
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.hugetlb=0", nullptr, nullptr, madvise));
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.hugetlb=1", nullptr, nullptr, madvise));
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2", nullptr,
                                         nullptr, madvise));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, "0", nullptr, madvise));
    // A malloc or a tool preloaded (valgrind, heaptrack, jemalloc).
    CHECK_FALSE(tunables_with_huge_pages(
        nullptr, nullptr, "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so", madvise));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, nullptr, nullptr, "always madvise [never]\n"));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, nullptr, nullptr, ""));  // no such file
}
