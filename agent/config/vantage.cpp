#include "agent/config/vantage.hpp"

#include <algorithm>

#include "agent/common/quoted.hpp"

namespace soawatch {

namespace {

bool vantage_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

}  // namespace

std::string vantage_error(std::string_view name) {
    if (name.empty()) return "must not be empty (leave it out for no vantage)";
    if (name.size() > kMaxVantageLength)
        return "too long: " + std::to_string(name.size()) + " characters (at most " +
               std::to_string(kMaxVantageLength) + ")";
    if (!std::all_of(name.begin(), name.end(), vantage_char))
        return "invalid vantage " + quoted(name) + " (letters, digits, '_', '.', '-')";
    return {};
}

}  // namespace soawatch
