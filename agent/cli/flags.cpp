#include "agent/cli/flags.hpp"

#include <getopt.h>

#include <map>

namespace soawatch {

namespace {

// getopt_long reports a long flag by this value plus its index in the table.
constexpr int kLongFlagBase = 256;

std::string flag_name(const Flag& flag) {
    return flag.name.empty() ? std::string("-") + flag.short_name : "--" + flag.name;
}

// The flag as the user wrote it, without a value after "=".
std::string as_written(const std::string& arg) {
    return arg.substr(0, arg.find('='));
}

}  // namespace

ParsedFlags parse_flags(const std::vector<std::string>& args, const std::vector<Flag>& flags) {
    ParsedFlags out;
    std::vector<std::string> storage;
    storage.reserve(args.size() + 1);
    storage.emplace_back("soawatch");
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(storage.size());

    std::vector<option> long_options;
    std::string short_options = ":";  // leading ':': a missing value is reported as ':'
    std::map<int, std::size_t> by_short;
    for (std::size_t i = 0; i < flags.size(); ++i) {
        const Flag& f = flags[i];
        if (!f.name.empty())
            long_options.push_back({f.name.c_str(), f.takes_value ? required_argument : no_argument,
                                    nullptr, kLongFlagBase + static_cast<int>(i)});
        if (f.short_name) {
            short_options += f.short_name;
            if (f.takes_value) short_options += ':';
            by_short[static_cast<unsigned char>(f.short_name)] = i;
        }
    }
    long_options.push_back({nullptr, 0, nullptr, 0});

    optind = 0;  // GNU: 0 starts a fresh scan (tests and both commands parse more than once)
    opterr = 0;  // no messages of getopt's own: ours name the flag the same way every time
    for (;;) {
        const int c =
            getopt_long(argc, argv.data(), short_options.c_str(), long_options.data(), nullptr);
        if (c == -1) break;
        if (c == '?') {
            if (optopt >= kLongFlagBase) {  // a switch given a value: --json=1
                out.error = flag_name(flags[static_cast<std::size_t>(optopt - kLongFlagBase)]) +
                            ": takes no value";
            } else if (optopt) {
                out.error = std::string("unknown flag -") + static_cast<char>(optopt);
            } else {  // GNU getopt permutes argv, not storage: read the pointer array
                out.error =
                    "unknown flag " + as_written(argv[static_cast<std::size_t>(optind - 1)]);
            }
            return out;
        }
        if (c == ':') {
            const std::size_t index = optopt >= kLongFlagBase
                                          ? static_cast<std::size_t>(optopt - kLongFlagBase)
                                          : by_short.at(optopt);
            out.error = flag_name(flags[index]) + ": needs a value";
            return out;
        }
        const std::size_t index =
            c >= kLongFlagBase ? static_cast<std::size_t>(c - kLongFlagBase) : by_short.at(c);
        const Flag& flag = flags[index];
        std::string why = flag.apply(optarg ? std::string(optarg) : std::string());
        if (!why.empty()) {
            out.error = flag_name(flag) + ": " + why;
            return out;
        }
    }
    // Operands, in their order (GNU getopt moved them behind the flags).
    for (int i = optind; i < argc; ++i)
        out.operands.emplace_back(argv[static_cast<std::size_t>(i)]);
    return out;
}

}  // namespace soawatch
