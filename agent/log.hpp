// Structured logs: one line per event on stderr, logfmt (default) or JSON, with a level filter.
// Values are escaped; callers never pass secrets (receiver URLs, tokens) as fields.
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
