#include "exporters/api/page_query.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "agent/common/text_util.hpp"

namespace soawatch {

const StateFilterName& state_filter_name(StateFilter filter) {
    return kStateFilterNames[static_cast<std::size_t>(filter)];
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding (the WHATWG URL standard's): '+' is a space, %XX a
// byte; a '%' not followed by two hex digits stays as it is.
std::string form_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string_view trim_blanks(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}

// A positive decimal number, or nullopt (empty, sign, other characters, zero, overflow).
std::optional<std::size_t> positive_number(std::string_view text) {
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
    return value;
}

std::optional<StateFilter> state_filter_from(std::string_view param) {
    const std::string lower = ascii_lower(param);
    for (const StateFilterName& row : kStateFilterNames)
        if (row.param == lower) return row.filter;
    // The spellings the page itself shows, as someone may type them.
    if (lower == "out_of_sync" || lower == "out of sync") return StateFilter::out_of_sync;
    return std::nullopt;
}

bool unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void append_form_encoded(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (unreserved(byte)) {
            out += c;
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        }
    }
}

}  // namespace

PageQuery parse_page_query(std::string_view raw_query) {
    PageQuery query;
    bool seen_name = false, seen_state = false, seen_page = false, seen_per = false;
    while (!raw_query.empty()) {
        const std::size_t amp = raw_query.find('&');
        const std::string_view pair = raw_query.substr(0, amp);
        raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
        const std::size_t eq = pair.find('=');
        const std::string key = form_decode(pair.substr(0, eq));
        const std::string value =
            eq == std::string_view::npos ? std::string{} : form_decode(pair.substr(eq + 1));
        if (key == "q" && !seen_name) {
            seen_name = true;
            const std::string_view name = trim_blanks(value);
            if (name.size() <= PageQuery::kMaxNameLength) query.name = ascii_lower(name);
        } else if (key == "state" && !seen_state) {
            seen_state = true;
            query.state = state_filter_from(trim_blanks(value)).value_or(StateFilter::all);
        } else if (key == "page" && !seen_page) {
            seen_page = true;
            query.page = positive_number(trim_blanks(value)).value_or(1);
        } else if (key == "per" && !seen_per) {
            seen_per = true;
            query.per_page =
                std::min(positive_number(trim_blanks(value)).value_or(PageQuery::kDefaultPerPage),
                         PageQuery::kMaxPerPage);
        }
    }
    return query;
}

std::string page_query_string(const PageQuery& query) {
    std::string out = "?";
    const auto separator = [&out] {
        if (out.size() > 1) out += '&';
    };
    if (!query.name.empty()) {
        out += "q=";
        append_form_encoded(out, query.name);
    }
    if (query.state != StateFilter::all) {
        separator();
        out += "state=";
        out += state_filter_name(query.state).param;
    }
    if (query.per_page != PageQuery::kDefaultPerPage) {
        separator();
        out += "per=";
        out += std::to_string(query.per_page);
    }
    if (query.page != 1) {
        separator();
        out += "page=";
        out += std::to_string(query.page);
    }
    return out;
}

}  // namespace soawatch
