// Loading and validating the web configuration. Every check lives here and fails with exactly
// one ConfigError naming file:line and the key; tests/testdata/web/invalid-*.yml holds one input
// per error. The TLS files are loaded into a throw-away OpenSSL context, so a certificate that
// does not parse or a key that does not match is reported at its key, not at the first request
// (the server then serves them through GnuTLS).
#include "exporters/http/web_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "agent/common/text_util.hpp"
#include "agent/config/yaml_reader.hpp"
#include "exporters/http/tls_context.hpp"

namespace soawatch {
namespace {

using namespace std::chrono_literals;
using namespace yaml;

constexpr std::array<std::string_view, 4> kTopKeys{"tls_server_config", "http_server_config",
                                                   "basic_auth_users", "rate_limit"};
constexpr std::array<std::string_view, 7> kTlsKeys{
    "cert_file",   "key_file",    "client_auth_type",           "client_ca_file",
    "min_version", "max_version", "prefer_server_cipher_suites"};
constexpr std::array<std::string_view, 1> kHttpKeys{"headers"};
// exporter-toolkit's list: the headers an operator may add or override.
constexpr std::array<std::string_view, 5> kHeaderNames{
    "Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options",
    "X-Frame-Options", "X-XSS-Protection"};
constexpr std::array<std::string_view, 2> kRateLimitKeys{"interval", "burst"};

constexpr std::array<std::string_view, 0> kNoKeys{};  // basic_auth_users: any user name
constexpr std::size_t kMaxFileBytes = 1u << 20;
constexpr Duration kMaxRateInterval = 1h;
constexpr int64_t kMaxBurst = 1000000;

// exporter-toolkit keys that have no meaning here, with the reason.
std::string unsupported_tls_key(std::string_view key) {
    if (key == "cipher_suites" || key == "curve_preferences") {
        return "not supported: GnuTLS picks the cipher suites and curves for the TLS versions "
               "allowed (set min_version)";
    }
    if (key == "client_allowed_sans") {
        return "not supported: verify clients with client_ca_file";
    }
    if (key == "cert" || key == "key" || key == "client_ca") {
        return "not supported: give the PEM in a file (cert_file, key_file, client_ca_file)";
    }
    if (contains(kTopKeys, key)) return "unknown key (it belongs at the top level)";
    return "";
}

std::optional<TlsVersion> parse_tls_version(std::string_view text) {
    if (text == "TLS10") return TlsVersion::tls10;
    if (text == "TLS11") return TlsVersion::tls11;
    if (text == "TLS12") return TlsVersion::tls12;
    if (text == "TLS13") return TlsVersion::tls13;
    return std::nullopt;
}

std::optional<ClientAuth> parse_client_auth(std::string_view text) {
    if (text == "NoClientCert" || text.empty()) return ClientAuth::none;
    if (text == "RequestClientCert") return ClientAuth::request;
    // "RequireClientCert" is exporter-toolkit's older name for it.
    if (text == "RequireAnyClientCert" || text == "RequireClientCert") {
        return ClientAuth::require_any;
    }
    if (text == "VerifyClientCertIfGiven") return ClientAuth::verify_if_given;
    if (text == "RequireAndVerifyClientCert") return ClientAuth::require_and_verify;
    return std::nullopt;
}

// "$2b$10$" + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet; $2a$ and $2y$
// (htpasswd) are the same scheme. libxcrypt verifies all three.
bool is_bcrypt_hash(std::string_view hash) {
    if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
        return false;
    }
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
    if (!std::isdigit(static_cast<unsigned char>(hash[4])) ||
        !std::isdigit(static_cast<unsigned char>(hash[5]))) {
        return false;
    }
    const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31) return false;
    return std::all_of(hash.begin() + 7, hash.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
    });
}

bool is_header_value(std::string_view value) {
    return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte >= 0x20 && byte < 0x7f;  // no CR or LF: no header injection
    });
}

class WebLoader {
  public:
    WebLoader(WebConfig& config, const std::string& file)
        : config_(config), reader_(file), folder_(folder_of(file)) {}

    void load(const std::string& text) {
        const YAML::Node root = reader_.parse(text);
        if (!root.IsNull() && !root.IsMap()) {
            reader_.fail(line_of(root), "",
                         "expected a mapping at the top level (tls_server_config, "
                         "basic_auth_users, http_server_config, rate_limit), got " +
                             describe(root));
        }
        auto entries = reader_.mapping(Field{root, "", line_of(root)}, kTopKeys,
                                       [](std::string_view key) -> std::string {
                                           if (contains(kTlsKeys, key)) {
                                               return "unknown key (it belongs under "
                                                      "tls_server_config)";
                                           }
                                           return "";
                                       });
        if (const auto it = entries.find("tls_server_config"); it != entries.end()) {
            tls(it->second);
        }
        if (const auto it = entries.find("basic_auth_users"); it != entries.end()) {
            users(it->second);
        }
        if (const auto it = entries.find("http_server_config"); it != entries.end()) {
            http(it->second);
        }
        if (const auto it = entries.find("rate_limit"); it != entries.end()) {
            rate_limit(it->second);
        }
    }

  private:
    void tls(const Field& field) {
        auto entries = reader_.mapping(field, kTlsKeys, unsupported_tls_key);
        TlsServerConfig tls;
        const Field* cert = find_field(entries, "cert_file");
        const Field* key = find_field(entries, "key_file");
        if (cert == nullptr && key == nullptr) {
            reader_.fail(field, "cert_file and key_file are required for TLS");
        }
        if (cert == nullptr) reader_.fail(field, "missing required key cert_file");
        if (key == nullptr) reader_.fail(field, "missing required key key_file");
        tls.cert_file = file_name(*cert);
        tls.key_file = file_name(*key);

        const Field* auth = find_field(entries, "client_auth_type");
        if (auth != nullptr) {
            const std::string text = reader_.string(*auth, "a client_auth_type");
            const auto value = parse_client_auth(text);
            if (!value) {
                reader_.fail(*auth, "unknown client_auth_type " + quoted(text) +
                                        " (NoClientCert, RequestClientCert, "
                                        "RequireAnyClientCert, VerifyClientCertIfGiven, "
                                        "RequireAndVerifyClientCert)");
            }
            tls.client_auth = *value;
        }
        const Field* ca = find_field(entries, "client_ca_file");
        if (ca != nullptr) tls.client_ca_file = file_name(*ca);
        const bool verifies = tls.client_auth == ClientAuth::verify_if_given ||
                              tls.client_auth == ClientAuth::require_and_verify;
        if (verifies && ca == nullptr) {
            reader_.fail(*auth, auth->node.Scalar() + " needs client_ca_file");
        }
        if (ca != nullptr && tls.client_auth == ClientAuth::none) {
            reader_.fail(*ca,
                         "client certificates are not asked for (set client_auth_type, e.g. "
                         "RequireAndVerifyClientCert)");
        }

        if (const Field* f = find_field(entries, "min_version")) tls.min_version = version(*f);
        if (const Field* f = find_field(entries, "max_version")) {
            tls.max_version = version(*f);
            if (*tls.max_version < tls.min_version) {
                reader_.fail(*f, "lower than min_version (" +
                                     std::string(tls_version_name(tls.min_version)) + ")");
            }
        }
        if (const Field* f = find_field(entries, "prefer_server_cipher_suites")) {
            tls.prefer_server_cipher_suites = reader_.boolean(*f);
        }

        TlsSetupError error;
        if (!make_tls_context(tls, &error)) {
            const Field* at = find_field(entries, error.key);
            reader_.fail(at != nullptr ? *at : field, error.message);
        }
        config_.tls = std::move(tls);
    }

    TlsVersion version(const Field& field) const {
        const std::string text = reader_.string(field, "a TLS version");
        const auto value = parse_tls_version(text);
        if (!value) {
            reader_.fail(field,
                         "unknown TLS version " + quoted(text) + " (TLS10, TLS11, TLS12, TLS13)");
        }
        return *value;
    }

    std::string file_name(const Field& field) const {
        const std::string text = reader_.string(field, "a file name");
        if (text.empty()) reader_.fail(field, "empty file name");
        return resolve_pattern(folder_, text);
    }

    void users(const Field& field) {
        for (const auto& [name, value] : reader_.mapping(field, kNoKeys, no_hint, true)) {
            const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
                const auto byte = static_cast<unsigned char>(c);
                return byte >= 0x20 && byte != 0x7f;
            });
            if (name.empty() || !printable) {
                reader_.fail(
                    value.line, field.path,
                    "invalid user name " + quoted(name) + " (empty, or holds a control character)");
            }
            if (name.find(':') != std::string::npos) {
                reader_.fail(value, "a user name cannot contain \":\" (RFC 7617 section 2)");
            }
            // The value is never quoted back: it may be a password written by mistake.
            if (!value.node.IsScalar() || !is_bcrypt_hash(value.node.Scalar())) {
                reader_.fail(value,
                             "not a bcrypt hash (make one with: htpasswd -nbBC 10 USER PASSWORD)");
            }
            config_.basic_auth_users.emplace(name, value.node.Scalar());
        }
    }

    void http(const Field& field) {
        auto entries = reader_.mapping(field, kHttpKeys, [](std::string_view key) -> std::string {
            if (key == "http2") return "not supported: the server speaks HTTP/1.1 only";
            return "";
        });
        const auto it = entries.find("headers");
        if (it == entries.end()) return;
        auto headers =
            reader_.mapping(it->second, kHeaderNames, [](std::string_view key) -> std::string {
                const std::string_view suggestion = closest_key(kHeaderNames, key);
                if (!suggestion.empty()) {
                    return "not a header that may be set (did you mean " + std::string(suggestion) +
                           "?)";
                }
                return "not a header that may be set (Content-Security-Policy, "
                       "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
                       "X-XSS-Protection)";
            });
        for (const auto& [name, value] : headers) {
            const std::string text = reader_.string(value, "a header value");
            if (!is_header_value(text)) {
                reader_.fail(value,
                             "not a header value: empty, or holds a control or non-ASCII "
                             "character");
            }
            if (name == "X-Content-Type-Options" && ascii_lower(text) != "nosniff") {
                reader_.fail(value, "the only value is nosniff");
            }
            if (name == "X-Frame-Options") {
                const std::string frame = ascii_lower(text);
                if (frame != "deny" && frame != "sameorigin")
                    reader_.fail(value, "allowed values are deny and sameorigin");
            }
            config_.headers.emplace_back(name, text);
        }
    }

    void rate_limit(const Field& field) {
        auto entries = reader_.mapping(field, kRateLimitKeys, no_hint);
        if (const auto it = entries.find("interval"); it != entries.end()) {
            config_.rate_limit.interval =
                reader_.duration(it->second, Duration{0}, kMaxRateInterval, "0s turns it off");
        }
        if (const auto it = entries.find("burst"); it != entries.end()) {
            config_.rate_limit.burst =
                static_cast<unsigned>(reader_.integer(it->second, 1, kMaxBurst));
        }
    }

    WebConfig& config_;
    Reader reader_;
    std::string folder_;
};

}  // namespace

const char* tls_version_name(TlsVersion version) {
    switch (version) {
        case TlsVersion::tls10:
            return "TLS10";
        case TlsVersion::tls11:
            return "TLS11";
        case TlsVersion::tls12:
            return "TLS12";
        case TlsVersion::tls13:
            return "TLS13";
    }
    return "TLS12";
}

WebConfig parse_web_config(const std::string& text, const std::string& name) {
    WebConfig config;
    config.path = name;
    WebLoader(config, name).load(text);
    return config;
}

WebConfig load_web_config(const std::string& path) {
    return parse_web_config(read_file(path, kMaxFileBytes), path);
}

}  // namespace soawatch
