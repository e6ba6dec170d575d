// The alerting: section of the configuration and a zone's alerting.rules, out of config.cpp so
// that each file holds one part of the schema; the same reader, errors and rules (docs/CONFIG.md).
#include "agent/config/alerting_schema.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>

namespace soawatch {

using namespace std::chrono_literals;
using namespace yaml;

namespace {

constexpr std::array<std::string_view, 12> kRuleKeys{"enabled",         "for",
                                                     "severity",        "max_serial_behind",
                                                     "max_lag",         "consecutive_failures",
                                                     "expire_fraction", "tolerated_retries",
                                                     "max_propagation", "min_expire",
                                                     "max_minimum",     "min_validity"};
constexpr std::array<std::string_view, 9> kReceiverKeys{
    "name",    "type",    "url",          "url_file",     "url_env",
    "headers", "timeout", "max_attempts", "send_resolved"};
constexpr std::array<std::string_view, 2> kRouteKeys{"receivers", "group_by"};
// The labels alerts carry, and so what notifications can be grouped by.
constexpr std::array<std::string_view, 5> kAlertLabels{"alertname", "zone", "nameserver", "address",
                                                       "severity"};
constexpr std::size_t kMaxSecretBytes = 64u << 10;
constexpr Duration kMinRepeatInterval = 1s;
constexpr Duration kMinResendInterval = 1s;
constexpr Duration kMaxResendInterval = 1h;
constexpr Duration kMinReceiverTimeout = 100ms;
constexpr Duration kMaxReceiverTimeout = 5min;
constexpr int64_t kMaxAttempts = 100;
constexpr int64_t kMaxQueueCapacity = 100000;
constexpr int64_t kMaxConsecutiveFailures = 1000;

bool rule_reads(AlertRule rule, std::string_view key) {
    if (key == "enabled" || key == "for" || key == "severity") return true;
    switch (rule) {
        case AlertRule::nameserver_behind:
            return key == "max_serial_behind" || key == "max_lag";
        case AlertRule::nameserver_unreachable:
        case AlertRule::primary_unreachable:
            return key == "consecutive_failures";
        case AlertRule::zone_expiry_risk:
            return key == "expire_fraction";
        case AlertRule::secondary_refresh_failing:
            return key == "tolerated_retries";
        case AlertRule::propagation_slow:
            return key == "max_propagation";
        case AlertRule::soa_timers_unsafe:
            return key == "min_expire" || key == "max_minimum";
        case AlertRule::signature_expiring_soon:
            return key == "min_validity";
        default:
            return false;
    }
}

std::string rule_settings(AlertRule rule) {
    std::string out = "enabled, for, severity";
    for (const std::string_view key : kRuleKeys)
        if (key != "enabled" && key != "for" && key != "severity" && rule_reads(rule, key))
            out += ", " + std::string(key);
    return out;
}

void alert_rule(const Reader& reader, const Field& field, AlertRule rule, AlertRuleSettings& r) {
    auto entries = reader.mapping(field, kRuleKeys, no_hint);
    for (const auto& [key, f] : entries) {
        if (!rule_reads(rule, key)) {
            reader.fail(f, "not a setting of " + std::string(alert_rule_name(rule)) + " (" +
                               rule_settings(rule) + ")");
        }
        if (key == "enabled") {
            r.enabled = reader.boolean(f);
        } else if (key == "for") {
            r.for_duration = reader.duration(f, Duration{0}, {});
        } else if (key == "severity") {
            r.severity = reader.string(f, "a severity");
            if (r.severity.empty() || has_blank(r.severity)) {
                reader.fail(f, "a severity is one word, like warning or critical");
            }
        } else if (key == "max_serial_behind") {
            r.max_serial_behind = static_cast<uint32_t>(reader.integer(f, 0, 2147483647));
        } else if (key == "max_lag") {
            r.max_lag = reader.duration(f, Duration{0}, {});
        } else if (key == "consecutive_failures") {
            r.consecutive_failures =
                static_cast<unsigned>(reader.integer(f, 1, kMaxConsecutiveFailures));
        } else if (key == "expire_fraction") {
            r.expire_fraction = reader.fraction(f, 0.0, 1.0);
        } else if (key == "tolerated_retries") {
            r.tolerated_retries = static_cast<unsigned>(reader.integer(f, 0, 100));
        } else if (key == "max_propagation") {
            r.max_propagation = reader.duration(f, Duration{0}, Duration{7LL * 24 * 3600000});
        } else if (key == "min_expire") {
            r.min_expire = reader.duration(f, Duration{0}, Duration{365LL * 24 * 3600000});
        } else if (key == "max_minimum") {
            r.max_minimum = reader.duration(f, Duration{1000}, Duration{7LL * 24 * 3600000});
        } else if (key == "min_validity") {
            r.min_validity = reader.duration(f, Duration{0}, Duration{365LL * 24 * 3600000});
        }
    }
}

// Why a receiver or external URL cannot be used, or "". Only http and https are sent to.
std::string url_problem(std::string_view url) {
    std::string_view rest;
    if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else if (url.rfind("https://", 0) == 0) {
        rest = url.substr(8);
    } else {
        return "not an http:// or https:// URL";
    }
    if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
        return "the URL has no host";
    }
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) {
            return "the URL holds a space or a non-ASCII character (percent-encode it)";
        }
    }
    return "";
}

// RFC 9110 5.1: a token.
bool is_header_name(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte)) continue;
        if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

ReceiverConfig alert_receiver(const Reader& reader, const Field& item, const std::string& folder) {
    ReceiverConfig r;
    auto entries = reader.mapping(item, kReceiverKeys, no_hint);
    const Field* name = find_field(entries, "name");
    if (name == nullptr) reader.fail(item, "missing required key name");
    r.name = reader.string(*name, "a receiver name");
    if (r.name.empty() || has_blank(r.name)) {
        reader.fail(*name, "a receiver name is one word without spaces");
    }
    const Field* type = find_field(entries, "type");
    if (type == nullptr) reader.fail(item, "missing required key type");
    const std::string type_name = reader.string(*type, "a receiver type");
    if (type_name == "slack") {
        r.type = ReceiverType::slack;
    } else if (type_name == "webhook") {
        r.type = ReceiverType::webhook;
    } else if (type_name == "alertmanager") {
        r.type = ReceiverType::alertmanager;
    } else {
        reader.fail(*type, "unknown receiver type " + quoted(type_name) +
                               " (slack, webhook, alertmanager)");
    }
    const Field* url = find_field(entries, "url");
    const Field* url_file = find_field(entries, "url_file");
    const Field* url_env = find_field(entries, "url_env");
    const int given = (url != nullptr) + (url_file != nullptr) + (url_env != nullptr);
    if (given != 1) {
        reader.fail(item, given == 0 ? "missing the URL: one of url, url_file, url_env"
                                     : "give only one of url, url_file, url_env");
    }
    const Field& url_field = url ? *url : url_file ? *url_file : *url_env;
    r.url = read_secret(reader, url_field, url ? "" : url_file ? "_file" : "_env", folder);
    // The message never repeats the URL: it may hold a token.
    if (const std::string problem = url_problem(r.url); !problem.empty()) {
        reader.fail(url_field, problem);
    }
    if (r.type == ReceiverType::alertmanager) {
        while (!r.url.empty() && r.url.back() == '/') r.url.pop_back();
    }
    if (const Field* f = find_field(entries, "headers")) {
        auto headers = reader.mapping(
            *f, std::array<std::string_view, 0>{}, [](std::string_view) { return std::string(); },
            /*any_key=*/true);
        for (const auto& [key, value] : headers) {
            std::string header = key;
            std::string how;
            // One suffix, the last: "X_env_file" is the header X_env read from a file.
            for (const char* suffix : {"_file", "_env"}) {
                const std::string_view sv(suffix);
                if (header.size() > sv.size() &&
                    header.compare(header.size() - sv.size(), sv.size(), sv) == 0) {
                    header.resize(header.size() - sv.size());
                    how = suffix;
                    break;
                }
            }
            if (!is_header_name(header)) {
                reader.fail(value, "not an HTTP header name: " + quoted(header));
            }
            std::string text = read_secret(reader, value, how, folder);
            if (text.find_first_of("\r\n") != std::string::npos || text.find('\0') != text.npos) {
                reader.fail(value, "a header value cannot hold a line break");
            }
            r.headers.emplace_back(std::move(header), std::move(text));
        }
    }
    if (const Field* f = find_field(entries, "timeout")) {
        r.timeout = reader.duration(*f, kMinReceiverTimeout, kMaxReceiverTimeout);
    }
    if (const Field* f = find_field(entries, "max_attempts")) {
        r.max_attempts = static_cast<unsigned>(reader.integer(*f, 1, kMaxAttempts));
    }
    if (const Field* f = find_field(entries, "send_resolved")) r.send_resolved = reader.boolean(*f);
    return r;
}

}  // namespace

// A value written inline (how == ""), read from a file ("_file": the file's content, trailing
// white space removed) or from the environment ("_env": the variable's value). Messages name
// the file or variable, never the value.
std::string read_secret(const Reader& reader, const Field& field, const std::string& how,
                        const std::string& folder) {
    if (how.empty()) return reader.string(field);
    if (how == "_env") {
        const std::string variable = reader.string(field, "an environment variable name");
        const char* value = variable.empty() ? nullptr : std::getenv(variable.c_str());
        if (value == nullptr || *value == '\0') {
            reader.fail(field, "environment variable " + quoted(variable) + " is not set");
        }
        return value;
    }
    std::string path = reader.string(field, "a file name");
    if (!path.empty() && path.front() != '/') path = resolve_pattern(folder, path);
    std::string text;
    try {
        text = read_file(path, kMaxSecretBytes);
    } catch (const ConfigError& e) {
        reader.fail(field, e.message() + " (" + path + ")");
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    if (text.empty()) reader.fail(field, "file " + quoted(path) + " is empty");
    return text;
}

AlertingConfig read_alerting(const Reader& reader, const Field& field, const std::string& folder) {
    AlertingConfig a;
    auto entries = reader.mapping(field, kAlertingKeys, no_hint);
    if (const Field* f = find_field(entries, "for"))
        a.default_for = reader.duration(*f, Duration{0}, {});
    a.rules = AlertRuleSet::defaults(a.default_for);
    if (const Field* f = find_field(entries, "repeat_interval")) {
        a.repeat_interval = reader.duration(*f, kMinRepeatInterval, {});
    }
    if (const Field* f = find_field(entries, "resend_interval")) {
        a.resend_interval = reader.duration(*f, kMinResendInterval, kMaxResendInterval);
    }
    if (const Field* f = find_field(entries, "external_url")) {
        a.external_url = reader.string(*f, "a URL");
        if (const std::string problem = url_problem(a.external_url); !problem.empty()) {
            reader.fail(*f, problem);
        }
        while (!a.external_url.empty() && a.external_url.back() == '/') a.external_url.pop_back();
    }
    if (const Field* f = find_field(entries, "queue_capacity")) {
        a.queue_capacity = static_cast<std::size_t>(reader.integer(*f, 1, kMaxQueueCapacity));
    }
    if (const Field* f = find_field(entries, "rules")) read_alert_rules(reader, *f, a.rules);
    std::map<std::string, int> names;  // receiver name -> line
    if (const Field* f = find_field(entries, "receivers")) {
        for (const Field& item : reader.list(*f)) {
            ReceiverConfig receiver = alert_receiver(reader, item, folder);
            if (const auto first = names.find(receiver.name); first != names.end()) {
                reader.fail(item, "duplicate receiver name " + quoted(receiver.name) +
                                      " (first at line " + std::to_string(first->second) + ")");
            }
            names.emplace(receiver.name, item.line);
            a.receivers.push_back(std::move(receiver));
        }
    }
    if (const Field* f = find_field(entries, "route")) {
        auto route = reader.mapping(*f, kRouteKeys, no_hint);
        if (const auto it = route.find("receivers"); it != route.end()) {
            std::set<std::string> seen;
            for (const Field& item : reader.list(it->second)) {
                std::string name = reader.string(item, "a receiver name");
                if (!names.count(name)) {
                    reader.fail(item, "no receiver named " + quoted(name) +
                                          " (define it under alerting.receivers)");
                }
                if (!seen.insert(name).second) {
                    reader.fail(item, "receiver " + quoted(name) + " listed twice");
                }
                a.route_receivers.push_back(std::move(name));
            }
        }
        if (const auto it = route.find("group_by"); it != route.end()) {
            a.group_by.clear();
            const auto items = reader.list(it->second);
            for (const Field& item : items) {
                std::string label = reader.string(item, "a label name");
                if (label == "..." && items.size() == 1) {
                    a.group_by.push_back(label);
                    continue;
                }
                if (!contains(kAlertLabels, label)) {
                    reader.fail(item, "unknown label " + quoted(label) +
                                          " (alertname, zone, nameserver, address, "
                                          "severity, or \"...\" alone for all)");
                }
                a.group_by.push_back(std::move(label));
            }
        }
    }
    return a;
}

// Applies rules.<Name>: {...} entries on top of `into` (the defaults, or for a zone the
// global rules).
void read_alert_rules(const Reader& reader, const Field& field, AlertRuleSet& into) {
    if (field.node.IsNull()) return;
    if (!field.node.IsMap()) {
        reader.fail(field, "expected a mapping of rule names, got " + describe(field.node));
    }
    std::set<std::string> seen;
    for (auto it = field.node.begin(); it != field.node.end(); ++it) {
        const int key_line = line_of(it->first);
        if (!it->first.IsScalar()) {
            reader.fail(key_line, field.path, "expected a rule name, got " + describe(it->first));
        }
        const std::string name = it->first.Scalar();
        const std::string path = join_path(field.path, name);
        const auto rule = alert_rule_from_name(name);
        if (!rule) {
            reader.fail(key_line, path,
                        "unknown rule (ZoneSerialMismatch, NameserverBehind, "
                        "NameserverUnreachable, NameserverLame, ZoneExpiryRisk, "
                        "PrimaryUnreachable, SecondaryRefreshFailing, PropagationSlow, "
                        "SOAFieldsMismatch, SOATimersUnsafe)");
        }
        if (!seen.insert(name).second) reader.fail(key_line, path, "duplicate rule");
        const YAML::Node value = it->second;
        const Field rule_field{value, path, value.IsNull() ? key_line : line_of(value)};
        alert_rule(reader, rule_field, *rule, into[*rule]);
    }
}

}  // namespace soawatch
