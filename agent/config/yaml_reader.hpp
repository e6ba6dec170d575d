// Reading a YAML file whose every error is one ConfigError "file:line: key: message": the
// checks shared by the agent's configuration (config.cpp) and the web configuration
// (exporters/http/web_config.cpp). Unknown keys get a "did you mean", values get exact types and
// ranges, and messages stay on one line whatever the file held.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/quoted.hpp"
#include "agent/config/config.hpp"
#include "agent/config/setting_ranges.hpp"

namespace soawatch::yaml {

// ---- small text helpers ----

using soawatch::quoted;  // agent/common/quoted.hpp

std::string errno_text(int error);

std::string format_number(double value);  // "%g"

// True when the text holds a space or a control character: names (zones, keys, receivers) and
// one-word values (severities) cannot.
bool has_blank(std::string_view text);

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so
// "intreval" is one edit from "interval".
std::size_t edit_distance(std::string_view a, std::string_view b);

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The known key closest to `key` within two edits, or empty.
template <std::size_t N>
std::string_view closest_key(const std::array<std::string_view, N>& keys, std::string_view key) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (const std::string_view known : keys) {
        const std::size_t distance = edit_distance(key, known);
        if (distance < best_distance) {
            best = known;
            best_distance = distance;
        }
    }
    return best;
}

std::string join_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

// The folder of a file path as a prefix for relative paths: "" for "soawatch.yml".
std::string folder_of(const std::string& path);

// `path` as written in a file in `folder`: absolute paths stay, relative ones join the folder.
std::string resolve_pattern(const std::string& folder, const std::string& pattern);

// ---- YAML values ----

// 1-based line of a node from the parser, 0 when unknown.
int line_of(const YAML::Node& node);

// What a node holds, for "expected X, got Y".
std::string describe(const YAML::Node& node);

bool is_plain_scalar(const YAML::Node& node);

// One value to read: the node, where it is, and its dotted key path.
struct Field {
    YAML::Node node;
    std::string path;
    int line = 0;
};

// The entry `key` of a mapping that Reader::mapping returned, or null when the file leaves the
// key out (most keys are optional).
inline const Field* find_field(const std::map<std::string, Field>& entries,
                               const std::string& key) {
    const auto it = entries.find(key);
    return it == entries.end() ? nullptr : &it->second;
}

// One YAML document being read: its file name, for every message.
class Reader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    const std::string& file() const { return file_; }

    [[noreturn]] void fail(int line, const std::string& key, const std::string& message) const;
    [[noreturn]] void fail(const Field& field, const std::string& message) const;

    // The one document of `text` (null when empty). More than one document is an error.
    YAML::Node parse(const std::string& text) const;

    // The entries of a mapping by key, after rejecting keys that are not strings, repeated or
    // unknown. `hint` may explain an unknown key better than "did you mean". With any_key, keys
    // are names chosen by the user (user names, header names): none is unknown.
    template <std::size_t N, typename Hint>
    std::map<std::string, Field> mapping(const Field& field,
                                         const std::array<std::string_view, N>& known, Hint hint,
                                         bool any_key = false) const {
        return entries(field, [&](const std::string& name) -> std::string {
            if (any_key || contains(known, name)) return {};
            std::string message = hint(name);
            if (message.empty()) {
                message = "unknown key";
                const std::string_view suggestion = closest_key(known, name);
                if (!suggestion.empty()) {
                    message += " (did you mean " + std::string(suggestion) + "?)";
                }
            }
            return message;
        });
    }

    // The items of a list; a missing value is an empty list.
    std::vector<Field> list(const Field& field) const;

    std::string string(const Field& field, std::string_view what = "a string") const;
    bool boolean(const Field& field) const;
    int64_t integer(const Field& field, int64_t min, int64_t max, const std::string& allowed) const;
    int64_t integer(const Field& field, int64_t min, int64_t max) const;
    // A setting the command line takes too: the range and the message are shared with it.
    int64_t integer(const Field& field, const IntegerRange& range) const;
    Duration duration(const Field& field, const DurationRange& range) const;
    // A decimal number in (min, max] ("0.5", "1", ".25").
    double fraction(const Field& field, double min_exclusive, double max) const;
    Duration duration(const Field& field) const;
    Duration duration(const Field& field, Duration min, std::optional<Duration> max,
                      const std::string& note = "") const;
    Endpoint endpoint(const Field& field, uint16_t default_port,
                      bool allow_any_address = false) const;

  private:
    // `reject(name)` returns "" for a known key, else the message for it.
    std::map<std::string, Field> entries(
        const Field& field, const std::function<std::string(const std::string&)>& reject) const;

    std::string file_;
};

std::string no_hint(std::string_view key);

// ---- reading files ----

// The whole file; ConfigError "file: cannot read file: reason" when it cannot be read or is
// larger than max_bytes.
std::string read_file(const std::string& path, std::size_t max_bytes);

}  // namespace soawatch::yaml
