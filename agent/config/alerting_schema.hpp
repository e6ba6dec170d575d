// The schema of the configuration's alerting: section (default for, repeat and resend intervals,
// external URL, queue capacity, rules and their thresholds, receivers, route) and of a zone's
// alerting.rules overrides, read with the YAML reader: one ConfigError "file:line: key: message"
// per mistake. The types are in alert_config.hpp; config.cpp calls these for its sections.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "agent/config/alert_config.hpp"
#include "agent/config/yaml_reader.hpp"

namespace soawatch {

inline constexpr std::array<std::string_view, 8> kAlertingKeys{"for",
                                                               "repeat_interval",
                                                               "resend_interval",
                                                               "external_url",
                                                               "queue_capacity",
                                                               "rules",
                                                               "receivers",
                                                               "route"};

// The alerting: mapping. `folder`: where relative secret file names are found (the main
// configuration file's folder).
AlertingConfig read_alerting(const yaml::Reader& reader, const yaml::Field& field,
                             const std::string& folder);

// Applies rules.<Name>: {...} entries on top of `into` (the defaults, or for a zone the global
// rules).
void read_alert_rules(const yaml::Reader& reader, const yaml::Field& field, AlertRuleSet& into);

// A value written inline (how == ""), read from a file ("_file": the file's content, trailing
// white space removed) or from the environment ("_env": the variable's value). Messages name the
// file or variable, never the value. Receiver URLs and headers, TSIG secrets.
std::string read_secret(const yaml::Reader& reader, const yaml::Field& field,
                        const std::string& how, const std::string& folder);

}  // namespace soawatch
