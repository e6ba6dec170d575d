#include "exporters/metrics/prom_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <utility>

#include "agent/common/utf8.hpp"

namespace soawatch::prom {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool plain_ascii(std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x80 || c == '\\' || c == '"' || c == '\n') return false;
    }
    return true;
}

}  // namespace

void append_value(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "Nan";
    } else if (std::isinf(value)) {
        out += value < 0 ? "-Inf" : "+Inf";
    } else {
        // prometheus-cpp 1.0 writes "%.*g" with max_digits10 - 1 = 16 digits.
        std::array<char, 64> buffer;
        auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                       std::chars_format::general, 16);
        out.append(buffer.data(), ec == std::errc{} ? end : buffer.data());
    }
}

void append_value(std::string& out, uint64_t value) {
    std::array<char, 24> buffer;
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), ec == std::errc{} ? end : buffer.data());
}

void append_label_value(std::string& out, std::string_view value) {
    if (plain_ascii(value)) {
        out += value;
        return;
    }
    for (std::size_t i = 0; i < value.size();) {
        const char ch = value[i];
        if (ch == '\\') {
            out += "\\\\";
        } else if (ch == '"') {
            out += "\\\"";
        } else if (ch == '\n') {
            out += "\\n";
        } else {
            const std::size_t n = utf8_sequence_length(value, i);
            if (n == 0) {
                out += kReplacement;
                ++i;
            } else {
                out.append(value.substr(i, n));
                i += n;
            }
            continue;
        }
        ++i;
    }
}

std::string valid_utf8(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size();) {
        const std::size_t n = utf8_sequence_length(value, i);
        if (n == 0) {
            out += kReplacement;
            ++i;
        } else {
            out.append(value.substr(i, n));
            i += n;
        }
    }
    return out;
}

void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

LabelSet& LabelSet::add(std::string_view name, std::string_view value) {
    if (!text_.empty()) text_ += ',';
    text_ += name;
    text_ += "=\"";
    append_label_value(text_, value);
    text_ += '"';
    return *this;
}

namespace {

void append_series(std::string& out, std::string_view name, const LabelSet& labels) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels.text();
        out += '}';
    }
    out += ' ';
}

void append_series(std::string& out, std::string_view name, std::initializer_list<Label> labels) {
    out += name;
    if (labels.size() != 0) {
        char separator = '{';
        for (const Label& label : labels) {
            out += separator;
            out += label.name;
            out += "=\"";
            append_label_value(out, label.value);
            out += '"';
            separator = ',';
        }
        out += '}';
    }
    out += ' ';
}

}  // namespace

void append_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                   double value) {
    append_series(out, name, labels);
    append_value(out, value);
    out += '\n';
}

void append_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                   uint64_t value) {
    append_series(out, name, labels);
    append_value(out, value);
    out += '\n';
}

void append_sample(std::string& out, std::string_view name, const LabelSet& labels, double value) {
    append_series(out, name, labels);
    append_value(out, value);
    out += '\n';
}

void append_sample(std::string& out, std::string_view name, const LabelSet& labels,
                   uint64_t value) {
    append_series(out, name, labels);
    append_value(out, value);
    out += '\n';
}

void append_unlabelled_family(std::string& out, std::string_view name, std::string_view help,
                              double value, std::string_view type) {
    append_family_header(out, name, help, type);
    append_sample(out, name, std::initializer_list<Label>{}, value);
}

void append_sample(std::string& out, std::string_view name, const LabelSet& labels,
                   std::string_view extra_label, std::string_view extra_value, uint64_t value) {
    out += name;
    out += '{';
    if (!labels.empty()) {
        out += labels.text();
        out += ',';
    }
    out += extra_label;
    out += "=\"";
    append_label_value(out, extra_value);
    out += "\"} ";
    append_value(out, value);
    out += '\n';
}

StreamedText::StreamedText(Sink sink, std::size_t piece_bytes)
    : sink_(std::move(sink)), piece_bytes_(piece_bytes) {
    // A piece ends after the line that crosses piece_bytes: one allocation holds any of them.
    text_.reserve(piece_bytes_ + piece_bytes_ / 4);
}

bool StreamedText::flush() {
    if (!sink_) return true;  // keeps the whole text
    if (!failed_ && !text_.empty() && !sink_(text_)) failed_ = true;
    text_.clear();  // keeps the capacity for the next piece
    return !failed_;
}

}  // namespace soawatch::prom
