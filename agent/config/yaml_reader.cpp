// Moved out of config.cpp so the web configuration reads YAML with the same checks and messages.
#include "agent/config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <algorithm>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <memory>
#include <sstream>
#include <system_error>
#include <utility>

namespace soawatch::yaml {

namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// Where each document of a YAML stream has its root node; nothing else is kept.
class DocumentRoots : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark&) override { root_seen_ = false; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        node(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnMapEnd() override {}

  private:
    void node(const YAML::Mark& mark) {
        if (!root_seen_) marks.push_back(mark);
        root_seen_ = true;
    }
    bool root_seen_ = false;
};

}  // namespace

bool has_blank(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7f;
    });
}

std::string format_number(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", value);
    return buf;
}

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::string join_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

std::string folder_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return "";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string resolve_pattern(const std::string& folder, const std::string& pattern) {
    if (pattern.front() == '/' || folder.empty()) return pattern;
    if (folder == "/") return "/" + pattern;
    return folder + "/" + pattern;
}

// ---- YAML values ----

int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Scalar:
            break;
    }
    // A quoted scalar carries the non-specific tag "!": it is a string whatever it spells.
    if (node.Tag() == "!") return "the string " + quoted(node.Scalar());
    return quoted(node.Scalar());
}

bool is_plain_scalar(const YAML::Node& node) {
    return node.IsScalar() && node.Tag() != "!";
}

void Reader::fail(int line, const std::string& key, const std::string& message) const {
    throw ConfigError(file_, line, key, message);
}

void Reader::fail(const Field& field, const std::string& message) const {
    fail(field.line, field.path, message);
}

// Documents are counted first, at most two, without YAML::LoadAll: yaml-cpp 0.7's LoadAll never
// returns on a document that starts with ',' (its parser reports the same empty document again
// and again, and LoadAll keeps them until memory runs out: yaml-cpp issue #1040, found by
// fuzz/config_fuzz.cpp).
YAML::Node Reader::parse(const std::string& text) const {
    try {
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        DocumentRoots roots;
        while (roots.marks.size() < 2 && parser.HandleNextDocument(roots)) {
        }
        if (roots.marks.size() == 2) {
            const YAML::Mark& second = roots.marks[1];
            const int line = second.line >= 0 ? second.line + 1 : 0;
            if (second.pos == roots.marks[0].pos && second.pos >= 0 &&
                static_cast<std::size_t>(second.pos) < text.size()) {
                fail(line, "",
                     "YAML syntax error: unexpected " +
                         quoted(text.substr(static_cast<std::size_t>(second.pos), 1)) +
                         " (column " + std::to_string(second.column + 1) + ")");
            }
            fail(line, "", "more than one YAML document (a file holds one)");
        }
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
        std::string message = "YAML syntax error: " + e.msg;
        if (e.mark.column >= 0) message += " (column " + std::to_string(e.mark.column + 1) + ")";
        fail(line, "", message);
    }
}

std::map<std::string, Field> Reader::entries(
    const Field& field, const std::function<std::string(const std::string&)>& reject) const {
    std::map<std::string, Field> entries;
    if (field.node.IsNull()) return entries;  // "global:" with everything commented out
    if (!field.node.IsMap()) {
        fail(field, "expected a mapping, got " + describe(field.node));
    }
    for (auto it = field.node.begin(); it != field.node.end(); ++it) {
        const YAML::Node key = it->first;
        const int key_line = line_of(key);
        if (!key.IsScalar()) {
            fail(key_line, field.path, "expected a key name, got " + describe(key));
        }
        const std::string& name = key.Scalar();
        const std::string path = join_path(field.path, name);
        if (const std::string message = reject(name); !message.empty()) {
            fail(key_line, path, message);
        }
        if (const auto first = entries.find(name); first != entries.end()) {
            fail(key_line, path,
                 "duplicate key (first at line " + std::to_string(first->second.line) + ")");
        }
        // A missing value ("timeout:") has the position of whatever follows it; the key's
        // line is the one the reader wants.
        const YAML::Node value = it->second;
        const int line = value.IsNull() ? key_line : line_of(value);
        entries.emplace(name, Field{value, path, line});
    }
    return entries;
}

std::vector<Field> Reader::list(const Field& field) const {
    std::vector<Field> items;
    if (field.node.IsNull()) return items;
    if (!field.node.IsSequence()) fail(field, "expected a list, got " + describe(field.node));
    std::size_t index = 0;
    for (const YAML::Node& item : field.node) {
        const int line = line_of(item);
        items.push_back(Field{item, index_path(field.path, index), line > 0 ? line : field.line});
        ++index;
    }
    return items;
}

std::string Reader::string(const Field& field, std::string_view what) const {
    if (!field.node.IsScalar()) {
        fail(field, "expected " + std::string(what) + ", got " + describe(field.node));
    }
    return field.node.Scalar();
}

bool Reader::boolean(const Field& field) const {
    if (is_plain_scalar(field.node)) {
        const std::string& text = field.node.Scalar();
        // YAML 1.2's core schema: no yes/no/on/off, which have surprised many.
        if (text == "true" || text == "True" || text == "TRUE") return true;
        if (text == "false" || text == "False" || text == "FALSE") return false;
    }
    fail(field, "expected a boolean (true or false), got " + describe(field.node));
}

int64_t Reader::integer(const Field& field, int64_t min, int64_t max,
                        const std::string& allowed) const {
    const std::string& text = field.node.Scalar();
    const bool digits =
        is_plain_scalar(field.node) && !text.empty() &&
        text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos &&
        text != "-";
    if (!digits) fail(field, "expected an integer, got " + describe(field.node));
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        fail(field, "out of range: " + text + " (allowed " + allowed + ")");
    }
    return value;
}

int64_t Reader::integer(const Field& field, int64_t min, int64_t max) const {
    return integer(field, min, max, std::to_string(min) + ".." + std::to_string(max));
}

int64_t Reader::integer(const Field& field, const IntegerRange& range) const {
    if (!is_plain_scalar(field.node))
        fail(field, "expected " + expected_integer(range) + ", got " + describe(field.node));
    const IntegerSetting parsed = parse_integer_setting(field.node.Scalar(), range);
    if (!parsed.error.empty()) fail(field, parsed.error);
    return parsed.value;
}

Duration Reader::duration(const Field& field, const DurationRange& range) const {
    const std::string text = string(field, "a duration (e.g. 500ms, 2s, 1m)");
    const DurationSetting parsed = parse_duration_setting(text, range);
    if (!parsed.error.empty()) fail(field, parsed.error);
    return parsed.value;
}

double Reader::fraction(const Field& field, double min_exclusive, double max) const {
    const std::string& text = field.node.Scalar();
    const bool plain = is_plain_scalar(field.node) && !text.empty() &&
                       text.find_first_not_of("0123456789.") == std::string::npos;
    double value = 0;
    const auto [end, ec] = plain ? std::from_chars(text.data(), text.data() + text.size(), value)
                                 : std::from_chars_result{text.data(), std::errc::invalid_argument};
    if (ec != std::errc() || end != text.data() + text.size()) {
        fail(field, "expected a number, got " + describe(field.node));
    }
    if (!(value > min_exclusive && value <= max)) {
        fail(field, "out of range: " + text + " (allowed above " + format_number(min_exclusive) +
                        " up to " + format_number(max) + ")");
    }
    return value;
}

Duration Reader::duration(const Field& field) const {
    const std::string text = string(field, "a duration (e.g. 500ms, 2s, 1m)");
    const auto value = parse_duration(text);
    if (!value) fail(field, "not a duration: " + quoted(text) + " (use e.g. 500ms, 2s, 1m)");
    return *value;
}

Duration Reader::duration(const Field& field, Duration min, std::optional<Duration> max,
                          const std::string& note) const {
    const Duration value = duration(field);
    if (value < min || (max && value > *max)) {
        std::string allowed = max ? "allowed " + format_duration(min) + ".." + format_duration(*max)
                                  : "at least " + format_duration(min);
        if (!note.empty()) allowed += ", " + note;
        fail(field, "out of range: " + field.node.Scalar() + " (" + allowed + ")");
    }
    return value;
}

Endpoint Reader::endpoint(const Field& field, uint16_t default_port, bool allow_any_address) const {
    const std::string text = string(field, "an address (IP[:PORT])");
    std::string error;
    auto endpoint = parse_endpoint(text, default_port, &error, allow_any_address);
    if (!endpoint) fail(field, error);
    return *endpoint;
}

std::string no_hint(std::string_view /*key*/) {
    return "";
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
    errno = 0;
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw ConfigError(path, 0, "", "cannot read file: " + errno_text(errno));
    std::string text;
    std::array<char, 65536> buffer;
    for (;;) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
        text.append(buffer.data(), n);
        if (text.size() > max_bytes) {
            throw ConfigError(
                path, 0, "",
                "cannot read file: larger than " + std::to_string(max_bytes >> 10) + " KiB");
        }
        if (n < buffer.size()) break;
    }
    if (std::ferror(file.get())) {
        throw ConfigError(path, 0, "", "cannot read file: " + errno_text(errno));
    }
    return text;
}

}  // namespace soawatch::yaml
