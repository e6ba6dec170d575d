// Shared by the tests of the configuration loaders (agent config, web config): the message a
// loader throws, a folder of invalid files each paired with its one message, temporary folders.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "agent/config/config.hpp"

namespace soawatch::test {

// The what() of the ConfigError `load` throws, or "" when it loads.
inline std::string config_error_of(const std::function<void()>& load) {
    try {
        load();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

// Every invalid-*.yml of `dir` has its message in `expected` (file name -> message, "{dir}"
// standing for the folder) and every message its file; `error_of(path)` gives the message.
inline void check_invalid_files(const std::string& dir,
                                const std::map<std::string, std::string>& expected,
                                const std::function<std::string(const std::string&)>& error_of,
                                std::size_t at_least) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("invalid-") && name.ends_with(".yml")) files.push_back(name);
    }
    std::sort(files.begin(), files.end());
    CHECK(files.size() >= at_least);
    for (const std::string& name : files) {
        INFO(name);
        CHECK(expected.count(name) == 1);
    }
    for (const auto& [name, message] : expected) {
        INFO(name);
        CHECK(std::find(files.begin(), files.end(), name) != files.end());
        CHECK(error_of(dir + "/" + name) == replace_all(message, "{dir}", dir));
    }
}

// A folder under the system's temporary folder, removed with everything in it.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "soawatch-test") {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;  // never throws (a destructor may run while unwinding)
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // The path of `name` in the folder (which need not exist).
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    // Writes `text` to `name` in the folder; returns the file's path.
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream out(path_ / name);
        out << text;
        REQUIRE(out.good());
        return (path_ / name).string();
    }

  private:
    std::filesystem::path path_;
};

}  // namespace soawatch::test
