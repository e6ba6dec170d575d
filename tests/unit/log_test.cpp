// Structured log lines: one line per event whatever the values hold, JSON that parses, and
// URLs reduced to what may be logged.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "agent/common/log.hpp"

using soawatch::log::Format;
using soawatch::log::format_line;
using soawatch::log::Level;
using soawatch::log::url_for_log;

namespace {

constexpr const char* kTs = "2024-05-01T12:00:00.000Z";

// Values that have broken log lines elsewhere: line breaks, quotes, '=', control and
// non-UTF-8 bytes, a truncated UTF-8 sequence, an encoded surrogate.
const std::string kHostile =
    std::string("a \"b\"=c\\d\ne\rf\tg\x01h\x7fi\xff") + "j\xc3" + "k\xed\xa0\x80" + "l";

}  // namespace

TEST_CASE("log: logfmt", "[log]") {
    CHECK(format_line(Format::logfmt, kTs, Level::info, "soawatch started",
                      {{"zones", "3"}, {"listen", ":9353"}, {"config", ""}}) ==
          "ts=2024-05-01T12:00:00.000Z level=info msg=\"soawatch started\" zones=3 "
          "listen=:9353 config=\"\"\n");
    CHECK(format_line(Format::logfmt, kTs, Level::warn, "x", {{"v", kHostile}}) ==
          "ts=2024-05-01T12:00:00.000Z level=warn msg=x "
          "v=\"a \\\"b\\\"=c\\\\d\\ne\\rf\\tg\\u0001h\\u007fi\\xffj\\xc3k\\xed\\xa0\\x80l\"\n");
    // UTF-8 stays as it is, quoted.
    CHECK(format_line(Format::logfmt, kTs, Level::debug, "zone", {{"zone", "b\xc3\xbc\x63her."}}) ==
          "ts=2024-05-01T12:00:00.000Z level=debug msg=zone zone=\"b\xc3\xbc\x63her.\"\n");
}

TEST_CASE("log: JSON lines parse and keep every value", "[log]") {
    const std::string line =
        format_line(Format::json, kTs, Level::error, "reload failed: \"x\"\n",
                    {{"error", kHostile}, {"zone", "b\xc3\xbc\x63her."}, {"empty", ""}});
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    const auto doc = nlohmann::json::parse(line);
    CHECK(doc["ts"] == kTs);
    CHECK(doc["level"] == "error");
    CHECK(doc["msg"] == "reload failed: \"x\"\n");
    // Bytes that are not UTF-8 become U+FFFD; everything else comes back as it was.
    CHECK(doc["error"] ==
          "a "
          "\"b\"="
          "c\\d\ne\rf\tg\x01h\x7fi\xEF\xBF\xBDj\xEF\xBF\xBDk\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDl");
    CHECK(doc["zone"] == "b\xc3\xbc\x63her.");
    CHECK(doc["empty"].get<std::string>().empty());
}

TEST_CASE("log: every event is one line", "[log]") {
    for (const Format format : {Format::logfmt, Format::json}) {
        for (const std::string& value : {kHostile, std::string("\n\n"), std::string("\r\n"),
                                         std::string(1, '\0'), std::string("\xe2\x80\xa8")}) {
            const std::string line = format_line(format, kTs, Level::info, value, {{"k", value}});
            CHECK(line.find('\n') == line.size() - 1);
            CHECK(line.find('\r') == std::string::npos);
        }
    }
}

TEST_CASE("log: URLs lose user info, path and query", "[log]") {
    CHECK(url_for_log("https://hooks.slack.com/services/T000/B000/XXXXXXXX") ==
          "https://hooks.slack.com/...");
    CHECK(url_for_log("https://user:p%40ss@alerts.example:8443/hook?token=abc") ==
          "https://alerts.example:8443/...");
    CHECK(url_for_log("http://user:p@ss@[2001:db8::1]:9093") == "http://[2001:db8::1]:9093");
    CHECK(url_for_log("http://alertmanager:9093/") == "http://alertmanager:9093");
    CHECK(url_for_log("http://alertmanager:9093#x") == "http://alertmanager:9093/...");
    CHECK(url_for_log("alertmanager:9093") == "(not a URL)");
    CHECK(url_for_log("https://") == "(not a URL)");
    CHECK(url_for_log("https://user:secret@/path") == "(not a URL)");
    CHECK(url_for_log("ht tp://x") == "(not a URL)");
}
