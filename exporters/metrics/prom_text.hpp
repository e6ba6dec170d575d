// Writing the Prometheus text exposition format 0.0.4 straight into a string, for the series
// built at scrape time from a Snapshot (one zone has ~20 series; 100,000 zones would make
// millions of prometheus::ClientMetric objects). The output is byte-for-byte what
// prometheus::TextSerializer writes for the same family (tested), so both mix in one body.
// Everything here is a pure function of its arguments and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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
// A whole family of one unlabelled sample: "# HELP", "# TYPE" and "name value" (the agent's
// own counters and gauges, the process_* metrics).
void append_unlabelled_family(std::string& out, std::string_view name, std::string_view help,
                              double value, std::string_view type = "gauge");
// The same with one more label after the set (soawatch_probe_errors_total{...,reason="x"}).
void append_sample(std::string& out, std::string_view name, const LabelSet& labels,
                   std::string_view extra_label, std::string_view extra_value, uint64_t value);

// A text handed on in pieces while it is written, so that a large body (the /metrics body is
// ~200 MB at 100,000 zones) never sits in memory whole:
//   StreamedText out(sink);  append to out.text(); call out.flush_if_full() where a piece may
//   end; out.finish() at the end.
// Default-constructed, it has no sink and keeps the whole text (take()). Not thread-safe.
class StreamedText {
  public:
    // Takes one piece (never empty); false when it could not (the reader is gone).
    using Sink = std::function<bool(std::string_view piece)>;
    static constexpr std::size_t kDefaultPieceBytes = std::size_t{256} * 1024;

    StreamedText() = default;
    explicit StreamedText(Sink sink, std::size_t piece_bytes = kDefaultPieceBytes);

    std::string& text() { return text_; }
    // Hands the text written so far to the sink once it holds piece_bytes or more. False once
    // the sink has refused a piece: the writer should stop (what it writes is dropped).
    bool flush_if_full() { return text_.size() < piece_bytes_ || flush(); }
    // Hands on the rest. False when the sink refused a piece, now or before.
    bool finish() { return flush(); }
    bool failed() const { return failed_; }
    // The whole text, without a sink.
    std::string take() && { return std::move(text_); }

  private:
    bool flush();

    Sink sink_;
    std::size_t piece_bytes_ = static_cast<std::size_t>(-1);
    bool failed_ = false;
    std::string text_;
};

}  // namespace soawatch::prom
