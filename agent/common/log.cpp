#include "agent/common/log.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "agent/common/thread_annotations.hpp"
#include "agent/common/utf8.hpp"

namespace soawatch::log {

namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::logfmt};
Mutex g_write_mutex;  // one whole line at a time on stderr

std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
    }
    return "info";
}

std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count()));
    return buf;
}

void append_hex_escape(std::string& out, const char* prefix, unsigned value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xf];
}

// The characters between the quotes of a logfmt or JSON string: quotes, backslashes and
// control characters escaped; bytes that are not UTF-8 become \xNN (logfmt) or U+FFFD (JSON
// strings must be UTF-8).
void append_escaped(std::string& out, std::string_view v, Format format) {
    for (std::size_t i = 0; i < v.size();) {
        const char c = v[i];
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            if (const std::size_t n = utf8_sequence_length(v, i); n > 0) {
                out.append(v.substr(i, n));
                i += n;
            } else {
                if (format == Format::json) {
                    out += "\\ufffd";
                } else {
                    append_hex_escape(out, "\\x", byte, 2);
                }
                ++i;
            }
            continue;
        }
        ++i;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    append_hex_escape(out, "\\u", byte, 4);
                } else {
                    out += c;
                }
        }
    }
}

void append_json_string(std::string& out, std::string_view v) {
    out += '"';
    append_escaped(out, v, Format::json);
    out += '"';
}

// logfmt: bare when the value is plain printable ASCII without space, quote or '='.
void append_logfmt_value(std::string& out, std::string_view v) {
    bool quote = v.empty();
    for (char c : v) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || byte < 0x21 || byte >= 0x7f)
            quote = true;
    }
    if (!quote) {
        out += v;
        return;
    }
    out += '"';
    append_escaped(out, v, Format::logfmt);
    out += '"';
}

}  // namespace

bool set_level(std::string_view name) {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error})
        if (name == level_name(l)) {
            g_level = l;
            return true;
        }
    return false;
}

bool set_format(std::string_view name) {
    if (name == "logfmt")
        g_format = Format::logfmt;
    else if (name == "json")
        g_format = Format::json;
    else
        return false;
    return true;
}

bool enabled(Level level) {
    return level >= g_level.load();
}

std::string format_line(Format format, std::string_view ts, Level level, std::string_view message,
                        std::initializer_list<Field> fields) {
    std::string line;
    line.reserve(128);
    if (format == Format::json) {
        line += "{\"ts\":";
        append_json_string(line, ts);
        line += ",\"level\":\"";
        line += level_name(level);
        line += "\",\"msg\":";
        append_json_string(line, message);
        for (const auto& [key, value] : fields) {
            line += ',';
            append_json_string(line, key);
            line += ':';
            append_json_string(line, value);
        }
        line += "}\n";
    } else {
        line += "ts=";
        append_logfmt_value(line, ts);
        line += " level=";
        line += level_name(level);
        line += " msg=";
        append_logfmt_value(line, message);
        for (const auto& [key, value] : fields) {
            line += ' ';
            line += key;
            line += '=';
            append_logfmt_value(line, value);
        }
        line += '\n';
    }
    return line;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (!enabled(level)) return;
    const std::string line = format_line(g_format, timestamp(), level, message, fields);
    MutexLock lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

std::string url_for_log(std::string_view url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return "(not a URL)";
    const std::string_view scheme = url.substr(0, scheme_end);
    for (char c : scheme)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
            return "(not a URL)";
    std::string_view rest = url.substr(scheme_end + 3);
    const std::size_t authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    // User info ends at the last '@' of the authority (a password may hold '@').
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos)
        authority.remove_prefix(at + 1);
    if (authority.empty()) return "(not a URL)";
    std::string out(scheme);
    out += "://";
    append_escaped(out, authority, Format::logfmt);
    if (authority_end != std::string_view::npos && authority_end + 1 < rest.size()) out += "/...";
    return out;
}

}  // namespace soawatch::log
