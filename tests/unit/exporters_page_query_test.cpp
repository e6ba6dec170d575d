// The status page's query (?q=&state=&page=&per=) and which zones one page lists: parsing never
// fails, paging covers every zone exactly once, in urgency order, and the counts match the lists
// they link to.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "../exporters/fixtures.hpp"
#include "exporters/api/page_query.hpp"
#include "exporters/api/zone_selection.hpp"

using namespace soawatch;
using namespace soawatch::test;

namespace {

ZoneStatus zone_named(std::string name, Verdict verdict, bool consistent) {
    ZoneStatus z = zone_in_sync();
    z.zone = std::move(name);
    z.verdict = verdict;
    z.consistent = consistent;
    return z;
}

std::vector<std::string> names_of(const ZoneSelection& selection) {
    std::vector<std::string> names;
    for (const ZoneStatus* z : selection.zones) names.push_back(z->zone);
    return names;
}

// 25 zones: z00..z24; z03, z17 critical; z05 warning and out of sync; z20 out of sync (OK
// verdict); z11 unknown; the rest OK.
Snapshot mixed_snapshot() {
    std::vector<ZoneStatus> zones;
    for (int i = 0; i < 25; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "z%02d.test.", i);
        Verdict verdict = Verdict::ok;
        bool consistent = true;
        if (i == 3 || i == 17) verdict = Verdict::critical;
        if (i == 5) verdict = Verdict::warning, consistent = false;
        if (i == 20) consistent = false;
        if (i == 11) verdict = Verdict::unknown;
        zones.push_back(zone_named(name, verdict, consistent));
    }
    return snapshot_of(std::move(zones));
}

PageQuery query(std::string_view raw) {
    return parse_page_query(raw);
}

}  // namespace

TEST_CASE("page query: defaults from an empty or foreign query", "[exporters][page]") {
    const PageQuery defaults;
    CHECK(query("") == defaults);
    CHECK(query("&&=&x=1&zone=a") == defaults);
    CHECK(defaults.state == StateFilter::all);
    CHECK(defaults.page == 1);
    CHECK(defaults.per_page == PageQuery::kDefaultPerPage);
    CHECK(page_query_string(defaults) == "?");
}

TEST_CASE("page query: every key read, names lowered and decoded", "[exporters][page]") {
    const PageQuery q = query("q=Example.TEST&state=critical&page=3&per=20");
    CHECK(q.name == "example.test");
    CHECK(q.state == StateFilter::critical);
    CHECK(q.page == 3);
    CHECK(q.per_page == 20);
    // Form encoding: '+' is a space, %XX a byte; blanks around the name are dropped.
    CHECK(query("q=+%3Cb%3E+x%2b+").name == "<b> x+");
    CHECK(query("q=%5C%3Cscript%5C%3E").name == "\\<script\\>");
    // A '%' without two hex digits stays.
    CHECK(query("q=a%2").name == "a%2");
    CHECK(query("q=a%zz").name == "a%zz");
    // The first occurrence of a key wins.
    CHECK(query("state=ok&state=critical").state == StateFilter::ok);
    // Every state by its parameter, in any case; the page's own spellings too.
    for (const StateFilterName& row : kStateFilterNames)
        CHECK(query("state=" + std::string(row.param)).state == row.filter);
    CHECK(query("state=Out-Of-Sync").state == StateFilter::out_of_sync);
    CHECK(query("state=out+of+sync").state == StateFilter::out_of_sync);
    CHECK(query("state=PROBLEMS").state == StateFilter::problems);
}

TEST_CASE("page query: bad values fall back to their defaults", "[exporters][page]") {
    CHECK(query("state=nonsense").state == StateFilter::all);
    CHECK(query("state=").state == StateFilter::all);
    for (const char* bad : {"page=0", "page=-1", "page=abc", "page=2x", "page=", "page",
                            "page=99999999999999999999999999"})
        CHECK(query(bad).page == 1);
    CHECK(query("page=+7+").page == 7);
    CHECK(query("per=0").per_page == PageQuery::kDefaultPerPage);
    CHECK(query("per=x").per_page == PageQuery::kDefaultPerPage);
    CHECK(query("per=100000").per_page == PageQuery::kMaxPerPage);
    CHECK(query("per=1").per_page == 1);
    // A name longer than any domain name is no filter at all.
    CHECK(query("q=" + std::string(PageQuery::kMaxNameLength + 1, 'a')).name.empty());
    CHECK(query("q=" + std::string(PageQuery::kMaxNameLength, 'a')).name.size() ==
          PageQuery::kMaxNameLength);
}

TEST_CASE("page query: the query string reads back as the same query", "[exporters][page]") {
    PageQuery q;
    q.name = "a&b=c d#%<x>";
    q.state = StateFilter::out_of_sync;
    q.page = 12;
    q.per_page = 200;
    const std::string text = page_query_string(q);
    CHECK(text == "?q=a%26b%3Dc%20d%23%25%3Cx%3E&state=out-of-sync&per=200&page=12");
    CHECK(parse_page_query(std::string_view(text).substr(1)) == q);
    PageQuery only_page;
    only_page.page = 2;
    CHECK(page_query_string(only_page) == "?page=2");
}

TEST_CASE("zone selection: problems first, then by name, every zone once", "[exporters][page]") {
    const Snapshot snap = mixed_snapshot();
    PageQuery q;
    q.per_page = 10;
    const ZoneSelection first = select_zones(snap, q);
    CHECK(first.matching == 25);
    CHECK(first.pages == 3);
    CHECK(first.page == 1);
    CHECK(first.first == 0);
    REQUIRE(first.zones.size() == 10);
    CHECK(names_of(first) == std::vector<std::string>{
                                 "z03.test.", "z17.test.", "z05.test.", "z20.test.", "z11.test.",
                                 "z00.test.", "z01.test.", "z02.test.", "z04.test.", "z06.test."});
    // The pages together hold every zone exactly once.
    std::vector<std::string> all = names_of(first);
    for (std::size_t page = 2; page <= 3; ++page) {
        q.page = page;
        const ZoneSelection s = select_zones(snap, q);
        CHECK(s.page == page);
        CHECK(s.first == (page - 1) * 10);
        const auto names = names_of(s);
        all.insert(all.end(), names.begin(), names.end());
    }
    CHECK(all.size() == 25);
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(all.front() == "z00.test.");
    CHECK(all.back() == "z24.test.");
}

TEST_CASE("zone selection: a page past the end shows the last page", "[exporters][page]") {
    const Snapshot snap = mixed_snapshot();
    PageQuery q;
    q.per_page = 10;
    q.page = 99;
    const ZoneSelection s = select_zones(snap, q);
    CHECK(s.page == 3);
    CHECK(s.first == 20);
    CHECK(s.zones.size() == 5);
    CHECK(s.zones.back()->zone == "z24.test.");
    // Nothing matches: one empty page.
    q.name = "nothing-like-this";
    const ZoneSelection none = select_zones(snap, q);
    CHECK(none.matching == 0);
    CHECK(none.pages == 1);
    CHECK(none.page == 1);
    CHECK(none.zones.empty());
    CHECK(none.all[static_cast<std::size_t>(StateFilter::all)] == 25);
}

TEST_CASE("zone selection: counts match the lists they link to", "[exporters][page]") {
    const Snapshot snap = mixed_snapshot();
    const ZoneSelection s = select_zones(snap, {});
    const auto count = [&](const ZoneSelection::Counts& c, StateFilter f) {
        return c[static_cast<std::size_t>(f)];
    };
    CHECK(count(s.all, StateFilter::all) == 25);
    CHECK(count(s.all, StateFilter::critical) == 2);
    CHECK(count(s.all, StateFilter::out_of_sync) == 2);  // z05, z20
    CHECK(count(s.all, StateFilter::warning) == 1);
    CHECK(count(s.all, StateFilter::unknown) == 1);
    CHECK(count(s.all, StateFilter::problems) == 5);
    CHECK(count(s.all, StateFilter::ok) == 20);
    CHECK(s.named == s.all);
    for (const StateFilterName& row : kStateFilterNames) {
        PageQuery q;
        q.state = row.filter;
        q.per_page = PageQuery::kMaxPerPage;
        const ZoneSelection listed = select_zones(snap, q);
        CHECK(listed.zones.size() == count(s.all, row.filter));
        for (const ZoneStatus* z : listed.zones) CHECK(matches_state(*z, row.filter));
    }
    PageQuery critical;
    critical.state = StateFilter::critical;
    CHECK(names_of(select_zones(snap, critical)) ==
          std::vector<std::string>{"z03.test.", "z17.test."});
}

TEST_CASE("zone selection: the name filter is a substring, counts per state", "[exporters][page]") {
    const Snapshot snap = mixed_snapshot();
    PageQuery q = parse_page_query("q=Z1");
    ZoneSelection s = select_zones(snap, q);
    CHECK(s.matching == 10);  // z10..z19
    CHECK(s.named[static_cast<std::size_t>(StateFilter::critical)] == 1);
    CHECK(s.named[static_cast<std::size_t>(StateFilter::unknown)] == 1);
    CHECK(s.all[static_cast<std::size_t>(StateFilter::all)] == 25);
    CHECK(s.zones.front()->zone == "z17.test.");
    q = parse_page_query("q=z17.test.&state=ok");
    CHECK(select_zones(snap, q).matching == 0);
    q = parse_page_query("q=z17.test.&state=problems");
    s = select_zones(snap, q);
    REQUIRE(s.zones.size() == 1);
    CHECK(s.zones[0]->zone == "z17.test.");
}
