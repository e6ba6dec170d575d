#include "agent/config/setting_ranges.hpp"

#include <charconv>
#include <string>

#include "agent/common/quoted.hpp"

namespace soawatch {

std::string allowed_values(const IntegerRange& range) {
    return std::string("allowed ") + (range.zero_too ? "0, or " : "") + std::to_string(range.min) +
           ".." + std::to_string(range.max);
}

std::string allowed_values(const DurationRange& range) {
    return range.max ? "allowed " + format_duration(range.min) + ".." + format_duration(*range.max)
                     : "at least " + format_duration(range.min);
}

IntegerSetting parse_integer_setting(std::string_view text, const IntegerRange& range) {
    IntegerSetting out;
    const bool digits =
        !text.empty() && text != "-" &&
        text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string_view::npos;
    if (!digits) {
        out.error = "expected an integer, got " + quoted(text);
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

IntegerSetting parse_loops_setting(std::string_view text) {
    if (text == "auto") return {kLoopsAuto, {}};
    IntegerSetting out = parse_integer_setting(text, kLoopsRange);
    const std::string allowed =
        "auto, or " + std::to_string(kLoopsRange.min) + ".." + std::to_string(kLoopsRange.max);
    if (out.error.starts_with("expected"))
        out.error = "expected " + allowed + ", got " + quoted(text);
    else if (!out.error.empty())
        out.error = "out of range: " + std::string(text) + " (allowed " + allowed + ")";
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
