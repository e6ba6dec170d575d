// HTTP Basic authentication (RFC 7617) against bcrypt-hashed passwords (basic_auth_users).
// Hashes are checked with libxcrypt's crypt_ra and compared in constant time. A bcrypt check
// costs tens of milliseconds on purpose; like exporter-toolkit, credentials that passed are
// remembered so a scrape every few seconds does not pay it each time, but only as an HMAC under
// a random per-process key (never the password), and only until the users change.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "agent/common/thread_annotations.hpp"

namespace soawatch {

class BasicAuth {
  public:
    // users: name -> bcrypt hash ($2a$, $2b$, $2y$), as validated by the web config loader.
    explicit BasicAuth(std::map<std::string, std::string> users);
    BasicAuth(const BasicAuth&) = delete;
    BasicAuth& operator=(const BasicAuth&) = delete;

    // True when no user is configured: every request passes.
    bool disabled() const { return users_.empty(); }

    // True when `authorization` (the Authorization header's value, empty when absent) is
    // "Basic base64(user:password)" for a configured user with the right password. Thread-safe.
    bool allows(std::string_view authorization);

    // Checks that ran bcrypt (the rest were answered from the cache); for tests and metrics.
    std::size_t bcrypt_checks() const;

  private:
    using Digest = std::array<unsigned char, 32>;
    Digest cache_key(std::string_view user, std::string_view password,
                     const std::string& hash) const;
    bool verify(std::string_view user, std::string_view password);

    std::map<std::string, std::string> users_;
    std::array<unsigned char, 32> cache_secret_{};
    mutable Mutex mutex_;
    std::set<Digest> cache_ GUARDED_BY(mutex_);
    std::size_t bcrypt_checks_ GUARDED_BY(mutex_) = 0;
    // One bcrypt at a time, as exporter-toolkit does: a flood of guesses costs one core, not all.
    Mutex bcrypt_mutex_;
};

}  // namespace soawatch
