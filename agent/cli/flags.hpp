// The one command-line parser of both commands (the agent and `soawatch check`): getopt_long(3)
// under a table of flags, so both take the same spellings (--flag=value, --flag value, -4) and
// say the same things about bad input. It never prints and never exits: it returns values and
// errors, and the command decides.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace soawatch {

struct Flag {
    std::string name;     // long name without "--" ("timeout"); empty: short only
    char short_name = 0;  // '4' for -4; 0: long only
    bool takes_value = false;
    // Applies the value ("" for a switch). Returns why the value is bad, or "" when it is fine:
    // the parser puts "--name: " before it.
    std::function<std::string(const std::string& value)> apply;
};

struct ParsedFlags {
    std::vector<std::string> operands;  // the arguments that are no flags, in order
    std::string error;  // "--timeout: out of range: 0s (allowed 1ms..1m)", "unknown flag --x"
};

// Parses args (argv without the program and command names). Stops at the first error. "--" ends
// the flags. Not thread-safe (getopt_long keeps global state): call it from one thread at a time.
ParsedFlags parse_flags(const std::vector<std::string>& args, const std::vector<Flag>& flags);

}  // namespace soawatch
