// Structured logs: one line per event on stderr, logfmt (default) or JSON, with a level filter.
// Messages and values are escaped so an event stays one line whatever they hold (newlines,
// control characters, quotes, bytes that are not UTF-8), and JSON lines always parse. Callers
// never pass secrets (passwords, hashes, tokens) as fields; a URL goes through url_for_log.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace soawatch::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { logfmt, json };

// Returns false for an unknown name ("debug", "info", "warn", "error" / "logfmt", "json").
bool set_level(std::string_view name);
bool set_format(std::string_view name);
bool enabled(Level level);

using Field = std::pair<std::string_view, std::string>;
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// The line write() prints (with its newline), for tests. Pure.
std::string format_line(Format format, std::string_view ts, Level level, std::string_view message,
                        std::initializer_list<Field> fields);

// A URL as it may be logged: scheme, host and port only. User info, path and query often hold
// credentials (https://user:pass@host/, a Slack webhook's path, ?token=); "/..." marks that a
// path or query was left out. Text that is no URL becomes "(not a URL)".
std::string url_for_log(std::string_view url);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::error, m, f);
}

}  // namespace soawatch::log
