// The web configuration (--web.config.file): who may talk to the HTTP port and how. It follows
// the Prometheus exporter-toolkit's web config file where the keys apply (tls_server_config,
// basic_auth_users, http_server_config.headers, rate_limit), so one file format serves every
// exporter on a host. Validated completely at load, certificates and keys included: every error
// is one ConfigError "file:line: key: message", and no message ever quotes a password hash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/common/duration.hpp"
#include "agent/config/config.hpp"

namespace soawatch {

enum class TlsVersion { tls10, tls11, tls12, tls13 };

// exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType).
enum class ClientAuth {
    none,                // NoClientCert
    request,             // RequestClientCert: asked for, not verified
    require_any,         // RequireAnyClientCert: required, not verified
    verify_if_given,     // VerifyClientCertIfGiven: verified against client_ca_file when sent
    require_and_verify,  // RequireAndVerifyClientCert
};

struct TlsServerConfig {
    std::string cert_file;  // PEM: the server certificate, then any intermediates
    std::string key_file;   // PEM: its private key, unencrypted
    ClientAuth client_auth = ClientAuth::none;
    std::string client_ca_file;  // PEM CA bundle; required by the two verifying client_auth types
    TlsVersion min_version = TlsVersion::tls12;
    std::optional<TlsVersion> max_version;  // none: the newest OpenSSL offers
    bool prefer_server_cipher_suites = true;
    bool operator==(const TlsServerConfig&) const = default;
};

// Per client address, a token bucket: `burst` requests at once, then one per `interval`. The
// default (50 a second) leaves room for a Prometheus that probes many zones through /probe.
struct RateLimit {
    Duration interval{20};  // 0 turns the limit off
    unsigned burst = 100;
    bool operator==(const RateLimit&) const = default;
};

struct WebConfig {
    std::string path;  // the file; empty when none was given (plain HTTP, no auth)
    std::optional<TlsServerConfig> tls;
    std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
    // http_server_config.headers: added to every response, replacing a default of the same name.
    std::vector<std::pair<std::string, std::string>> headers;
    RateLimit rate_limit;
};

// Loads and validates the file at `path`. Relative file names in it are relative to its folder.
// Throws ConfigError.
WebConfig load_web_config(const std::string& path);

// Same, from text (for tests); `name` stands in for the file name in messages and anchors
// relative file names.
WebConfig parse_web_config(const std::string& text, const std::string& name);

// "TLS1.2" etc.
const char* tls_version_name(TlsVersion version);

}  // namespace soawatch
