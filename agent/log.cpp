#include "agent/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace soawatch::log {

namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::logfmt};
std::mutex g_write_mutex;

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

void append_logfmt_value(std::string& out, std::string_view v) {
    bool quote = v.empty();
    for (char c : v)
        if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) quote = true;
    if (!quote) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
        } else {
            out += c;
        }
    }
    out += '"';
}

void append_json_string(std::string& out, std::string_view v) {
    out += '"';
    for (char c : v) {
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
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
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

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (!enabled(level)) return;
    std::string line;
    line.reserve(128);
    if (g_format == Format::json) {
        line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"";
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
        line += "ts=" + timestamp() + " level=";
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
    std::lock_guard lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace soawatch::log
