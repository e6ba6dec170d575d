#include <catch2/catch.hpp>

#include "agent/cli/huge_pages.hpp"

using soawatch::tunables_with_huge_pages;

TEST_CASE("huge pages: the tunable added to what GLIBC_TUNABLES has", "[huge-pages]") {
    const char* madvise = "always [madvise] never\n";
    CHECK(tunables_with_huge_pages(nullptr, nullptr, madvise) == "glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages("", nullptr, madvise) == "glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages("glibc.malloc.arena_max=2", nullptr, madvise) ==
          "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
    CHECK(tunables_with_huge_pages(nullptr, "1", "[always] madvise never\n") ==
          "glibc.malloc.hugetlb=1");
}

TEST_CASE("huge pages: left as it is when given, opted out or without THP", "[huge-pages]") {
    const char* madvise = "always [madvise] never\n";
    // Given already: the operator's value, and what ends the second start.
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.hugetlb=0", nullptr, madvise));
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.hugetlb=1", nullptr, madvise));
    CHECK_FALSE(tunables_with_huge_pages("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2", nullptr,
                                         madvise));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, "0", madvise));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, nullptr, "always madvise [never]\n"));
    CHECK_FALSE(tunables_with_huge_pages(nullptr, nullptr, ""));  // no such file
}
