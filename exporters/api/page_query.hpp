// What the status page shows: a filter by zone name and state and one page of the result,
// read from the query string of `GET /` (?q=NAME&state=STATE&page=N&per=M). Parsing never
// fails: a missing, unknown or out-of-range value falls back to its default, so any link an
// operator pastes still shows a page. Pure functions, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace soawatch {

// Which zones the list holds, by their state (the counts in the page's summary use the same
// tests, so following "3 critical" lists exactly those 3 zones).
enum class StateFilter {
    all,          // every zone
    problems,     // every zone that is not OK (CRITICAL, WARNING, UNKNOWN or out of sync)
    critical,     // verdict CRITICAL
    out_of_sync,  // a usable nameserver lacks the reference serial
    warning,      // verdict WARNING
    unknown,      // verdict UNKNOWN (not checked yet, or no usable answer)
    ok,           // verdict OK
};
inline constexpr std::size_t kStateFilters = 7;

struct StateFilterName {
    StateFilter filter;
    std::string_view param;  // the value of ?state=
    std::string_view label;  // what the page shows
};
// One row per StateFilter, in the enum's order: the filter bar lists them in this order.
inline constexpr std::array<StateFilterName, kStateFilters> kStateFilterNames = {{
    {StateFilter::all, "all", "All"},
    {StateFilter::problems, "problems", "Problems"},
    {StateFilter::critical, "critical", "Critical"},
    {StateFilter::out_of_sync, "out-of-sync", "Out of sync"},
    {StateFilter::warning, "warning", "Warning"},
    {StateFilter::unknown, "unknown", "Unknown"},
    {StateFilter::ok, "ok", "OK"},
}};
static_assert(static_cast<std::size_t>(StateFilter::ok) + 1 == kStateFilters);
const StateFilterName& state_filter_name(StateFilter filter);

struct PageQuery {
    // Zones per page: one screen by default; a few hundred at most keeps a page small.
    static constexpr std::size_t kDefaultPerPage = 50;
    static constexpr std::size_t kMaxPerPage = 500;
    // Longer than any domain name in presentation form with escapes (255 octets as \DDD).
    static constexpr std::size_t kMaxNameLength = 1024;

    // Zones whose canonical name contains this text, ASCII case-insensitively (RFC 4343);
    // stored lower case, without surrounding blanks. Empty: every name.
    std::string name;
    StateFilter state = StateFilter::all;
    std::size_t page = 1;  // 1-based; past the last page shows the last page
    std::size_t per_page = kDefaultPerPage;

    bool operator==(const PageQuery&) const = default;
};

// Parses the raw query string after '?' (application/x-www-form-urlencoded: '+' is a space,
// %XX a byte). Unknown keys are ignored; the first occurrence of a key wins.
PageQuery parse_page_query(std::string_view raw_query);

// The query string, with its leading '?', that parse_page_query reads back as `query`. Values
// at their default are left out (the first page of everything is "?"). Percent-encoded: safe in
// an href once HTML-escaped.
std::string page_query_string(const PageQuery& query);

}  // namespace soawatch
