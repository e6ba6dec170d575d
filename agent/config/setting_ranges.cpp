#include "agent/config/setting_ranges.hpp"

#include <charconv>
#include <string>

#include "agent/common/quoted.hpp"

namespace soawatch {

namespace {

// "0..10", "0, or 512..4096", "auto, or 1..64".
std::string values_of(const IntegerRange& range) {
    return (range.word.empty() ? std::string() : std::string(range.word) + ", or ") +
           (range.zero_too ? "0, or " : "") + std::to_string(range.min) + ".." +
           std::to_string(range.max);
}

}  // namespace

std::string allowed_values(const IntegerRange& range) {
    return "allowed " + values_of(range);
}

std::string expected_integer(const IntegerRange& range) {
    return range.word.empty() ? "an integer" : values_of(range);
}

std::string allowed_values(const DurationRange& range) {
    return range.max ? "allowed " + format_duration(range.min) + ".." + format_duration(*range.max)
                     : "at least " + format_duration(range.min);
}

IntegerSetting parse_integer_setting(std::string_view text, const IntegerRange& range) {
    IntegerSetting out;
    if (!range.word.empty() && text == range.word) return {0, {}};
    const bool digits =
        !text.empty() && text != "-" &&
        text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string_view::npos;
    if (!digits) {
        out.error = "expected " + expected_integer(range) + ", got " + quoted(text);
        return out;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.value);
    const bool in_range =
        ec == std::errc() && end == text.data() + text.size() &&
        ((out.value >= range.min && out.value <= range.max) || (range.zero_too && out.value == 0));
    if (!in_range)
        out.error = "out of range: " + std::string(text) + " (" + allowed_values(range) + ")";
    return out;
}

DurationSetting parse_duration_setting(std::string_view text, const DurationRange& range) {
    DurationSetting out;
    const auto value = parse_duration(std::string(text));
    if (!value) {
        out.error = "not a duration: " + quoted(text) + " (use e.g. 500ms, 2s, 1m)";
        return out;
    }
    out.value = *value;
    if (out.value < range.min || (range.max && out.value > *range.max))
        out.error = "out of range: " + std::string(text) + " (" + allowed_values(range) + ")";
    return out;
}

}  // namespace soawatch
