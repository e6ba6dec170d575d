// Small text helpers shared by the JSON API and the status page. Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/common/duration.hpp"  // human_duration

namespace soawatch {

// "2024-05-01T12:00:00Z": RFC 3339, UTC, whole seconds.
std::string rfc3339(std::chrono::system_clock::time_point t);

// A small file's whole text (/proc, /sys, cgroup files), or none when it cannot be read. Never
// throws: for start-up probes of the system, where the config's read_file does not fit.
std::optional<std::string> file_text(const std::string& path);

// Appends text with & < > replaced by character references, and " ' too when `quotes`: the
// one escaper of the project. HTML text and quoted attribute values take all five
// (append_html_escaped); Slack's mrkdwn takes exactly the first three (api.slack.com's
// formatting reference: a quote escaped would show as "&quot;").
void append_markup_escaped(std::string& out, std::string_view text, bool quotes);
inline void append_html_escaped(std::string& out, std::string_view text) {
    append_markup_escaped(out, text, true);
}
std::string html_escape(std::string_view text);

// ASCII lower case (DNS names are case-insensitive in ASCII only, RFC 4343).
std::string ascii_lower(std::string_view text);

// True when two domain names are equal ignoring ASCII case and a trailing dot.
bool same_domain_name(std::string_view a, std::string_view b);

}  // namespace soawatch
