// Writing the Prometheus text exposition format 0.0.4 straight into a string, for the series
// built at scrape time from a Snapshot (one zone has ~20 series; 100,000 zones would make
// millions of prometheus::ClientMetric objects). The output is byte-for-byte what
// prometheus::TextSerializer writes for the same family (tested), so both mix in one body.
// Everything here is a pure function of its arguments and thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace soawatch::prom {

// Appends a sample value as prometheus-cpp does ("%.16g"; "Nan", "+Inf", "-Inf").
void append_value(std::string& out, double value);
// Appends an unsigned integer exactly (serials, counters).
void append_value(std::string& out, uint64_t value);

// Appends a label value escaped for the text format (\\, \", \n). Invalid UTF-8, which
// Prometheus rejects in label values, is replaced by U+FFFD so one odd NS name from the
// network cannot make the whole scrape fail.
void append_label_value(std::string& out, std::string_view value);

// The same, returned: a label value Prometheus accepts (invalid UTF-8 replaced, no escaping).
std::string valid_utf8(std::string_view value);

// Appends "# HELP name help\n# TYPE name type\n". help must be a constant without newlines.
void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type);

// A label set rendered once and reused for every series that carries it:
//   LabelSet l; l.add("zone", z).add("nameserver", ns);   // zone="z",nameserver="ns"
//   prom::append_sample(out, "soawatch_x", l, 1.0);       // soawatch_x{zone="z",...} 1
class LabelSet {
  public:
    LabelSet& add(std::string_view name, std::string_view value);
    const std::string& text() const { return text_; }
    bool empty() const { return text_.empty(); }
    void clear() { text_.clear(); }

  private:
    std::string text_;
};

// One label written straight into the output, for series whose labels change from sample to
// sample (no LabelSet string is built):
//   prom::append_sample(out, "soawatch_x", {{"zone", z}, {"address", a}}, 1.0);
struct Label {
    std::string_view name;
    std::string_view value;
};

// Appends "name{labels} value\n" ("name value\n" when labels is empty).
void append_sample(std::string& out, std::string_view name, const LabelSet& labels, double value);
void append_sample(std::string& out, std::string_view name, const LabelSet& labels, uint64_t value);
void append_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                   double value);
void append_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                   uint64_t value);
// The same with one more label after the set (soawatch_probe_errors_total{...,reason="x"}).
void append_sample(std::string& out, std::string_view name, const LabelSet& labels,
                   std::string_view extra_label, std::string_view extra_value, uint64_t value);

}  // namespace soawatch::prom
