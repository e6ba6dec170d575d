#include "agent/common/text_util.hpp"

#include <ctime>
#include <fstream>
#include <sstream>

namespace soawatch {

std::optional<std::string> file_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::seconds>(t));  // truncates toward the epoch
    std::tm tm{};
    if (gmtime_r(&secs, &tm) == nullptr) return "1970-01-01T00:00:00Z";
    char buffer[32];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buffer, n);
}

void append_markup_escaped(std::string& out, std::string_view text, bool quotes) {
    for (char c : text) {
        if (!quotes && (c == '"' || c == '\'')) {
            out += c;
            continue;
        }
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    append_html_escaped(out, text);
    return out;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool same_domain_name(std::string_view a, std::string_view b) {
    if (!a.empty() && a.back() == '.' && a.size() > 1) a.remove_suffix(1);
    if (!b.empty() && b.back() == '.' && b.size() > 1) b.remove_suffix(1);
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

}  // namespace soawatch
