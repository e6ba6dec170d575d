// The web config loader (--web.config.file). As for the main config, every
// tests/testdata/web/invalid-*.yml is paired below with the one message it must produce. The
// files name certificates by relative path; the test copies them next to certificates made at
// test time (tests/support/test_certs.hpp), so {dir} in a message is that folder.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../support/config_files.hpp"
#include "../support/test_certs.hpp"
#include "exporters/http/web_config.hpp"

using namespace std::chrono_literals;
using soawatch::ClientAuth;
using soawatch::ConfigError;
using soawatch::load_web_config;
using soawatch::parse_web_config;
using soawatch::TlsVersion;
using soawatch::WebConfig;

namespace {

const std::string kWebDir = std::string(SOAWATCH_TESTDATA_DIR) + "/web";
const std::string kHash = "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

// A temp folder with the test certificates and a copy of every tests/testdata/web/*.yml.
class WebFixture {
  public:
    WebFixture() {
        for (const auto& entry : std::filesystem::directory_iterator(kWebDir)) {
            std::filesystem::copy_file(entry.path(), certs_.file(entry.path().filename()));
        }
    }

    std::string file(const std::string& name) const { return certs_.file(name); }
    std::string dir() const { return certs_.dir(); }

    std::string load_error(const std::string& name) const {
        return soawatch::test::config_error_of([&] { load_web_config(file(name)); });
    }

  private:
    soawatch::test::CertificateDir certs_;
};

std::string parse_error(const std::string& text) {
    return soawatch::test::config_error_of([&] { parse_web_config(text, "web.yml"); });
}

}  // namespace

TEST_CASE("web config: every key of a full file", "[web_config]") {
    WebFixture f;
    const WebConfig web = load_web_config(f.file("valid-full.yml"));
    CHECK(web.path == f.file("valid-full.yml"));
    REQUIRE(web.tls);
    CHECK(web.tls->cert_file == f.file("server.crt"));
    CHECK(web.tls->key_file == f.file("server.key"));
    CHECK(web.tls->client_auth == ClientAuth::require_and_verify);
    CHECK(web.tls->client_ca_file == f.file("ca.crt"));
    CHECK(web.tls->min_version == TlsVersion::tls13);
    CHECK(web.tls->max_version == TlsVersion::tls13);
    CHECK_FALSE(web.tls->prefer_server_cipher_suites);
    CHECK(web.basic_auth_users ==
          std::map<std::string, std::string>{
              {"prometheus", kHash},
              {"alice", "$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"}});
    CHECK(web.headers == std::vector<std::pair<std::string, std::string>>{
                             {"Strict-Transport-Security", "max-age=31536000"},
                             {"X-Frame-Options", "sameorigin"}});
    CHECK(web.rate_limit.interval == 1s);
    CHECK(web.rate_limit.burst == 5);
}

TEST_CASE("web config: defaults", "[web_config]") {
    const WebConfig defaults;
    CHECK(defaults.path.empty());
    CHECK_FALSE(defaults.tls);
    CHECK(defaults.basic_auth_users.empty());
    CHECK(defaults.headers.empty());
    CHECK(defaults.rate_limit.interval == 20ms);
    CHECK(defaults.rate_limit.burst == 100);
    for (const char* text : {"", "# nothing\n", "basic_auth_users:\n", "rate_limit: {}\n",
                             "http_server_config: {headers: {}}\n"}) {
        INFO(text);
        const WebConfig web = parse_web_config(text, "web.yml");
        CHECK_FALSE(web.tls);
        CHECK(web.basic_auth_users.empty());
        CHECK(web.headers.empty());
        CHECK(web.rate_limit == defaults.rate_limit);
    }
}

TEST_CASE("web config: TLS defaults and client auth names", "[web_config]") {
    WebFixture f;
    const std::string base = "tls_server_config:\n  cert_file: " + f.file("server.crt") +
                             "\n  key_file: " + f.file("server.key") + "\n";
    const WebConfig web = parse_web_config(base, "web.yml");
    REQUIRE(web.tls);
    CHECK(web.tls->min_version == TlsVersion::tls12);
    CHECK_FALSE(web.tls->max_version);
    CHECK(web.tls->client_auth == ClientAuth::none);
    CHECK(web.tls->prefer_server_cipher_suites);

    const std::vector<std::pair<std::string, ClientAuth>> names{
        {"NoClientCert", ClientAuth::none},
        {"RequestClientCert", ClientAuth::request},
        {"RequireAnyClientCert", ClientAuth::require_any},
        {"RequireClientCert", ClientAuth::require_any},  // exporter-toolkit's older name
        {"VerifyClientCertIfGiven", ClientAuth::verify_if_given},
        {"RequireAndVerifyClientCert", ClientAuth::require_and_verify}};
    for (const auto& [name, value] : names) {
        INFO(name);
        std::string text = base + "  client_auth_type: " + name + "\n";
        if (value == ClientAuth::verify_if_given || value == ClientAuth::require_and_verify) {
            text += "  client_ca_file: " + f.file("ca.crt") + "\n";
        }
        CHECK(parse_web_config(text, "web.yml").tls->client_auth == value);
    }
}

TEST_CASE("web config: values at the edges", "[web_config]") {
    struct Case {
        const char* text;
        const char* error;  // "" when valid
    };
    const std::vector<Case> cases{
        {"rate_limit: {interval: 0s}", ""},
        {"rate_limit: {interval: 1h, burst: 1000000}", ""},
        {"rate_limit: {interval: 1h1s}",
         "web.yml:1: rate_limit.interval: out of range: 1h1s (allowed 0s..1h, 0s turns it off)"},
        {"rate_limit: {burst: 1000001}",
         "web.yml:1: rate_limit.burst: out of range: 1000001 (allowed 1..1000000)"},
        {"basic_auth_users: {a: '$2b$31$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e'}",
         ""},
        {"basic_auth_users: {a: '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'}",
         "web.yml:1: basic_auth_users.a: not a bcrypt hash (make one with: htpasswd -nbBC 10 USER "
         "PASSWORD)"},
        {"basic_auth_users: {a: '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe'}",
         "web.yml:1: basic_auth_users.a: not a bcrypt hash (make one with: htpasswd -nbBC 10 USER "
         "PASSWORD)"},
        {"basic_auth_users: {a: [x]}",
         "web.yml:1: basic_auth_users.a: not a bcrypt hash (make one with: htpasswd -nbBC 10 USER "
         "PASSWORD)"},
        {"basic_auth_users: {'': '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'}",
         "web.yml:1: basic_auth_users: invalid user name \"\" (empty, or holds a control "
         "character)"},
        {"http_server_config: {headers: {X-Frame-Options: DENY}}", ""},
        {"http_server_config: {headers: {X-Frame-Options: allow}}",
         "web.yml:1: http_server_config.headers.X-Frame-Options: allowed values are deny and "
         "sameorigin"},
        {"http_server_config: {headers: {Content-Security-Policy: ''}}",
         "web.yml:1: http_server_config.headers.Content-Security-Policy: not a header value: "
         "empty, or holds a control or non-ASCII character"},
        {"http_server_config: {headers: {content-security-policy: x}}",
         "web.yml:1: http_server_config.headers.content-security-policy: not a header that may "
         "be set (Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, "
         "X-Frame-Options, X-XSS-Protection)"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK(parse_error(c.text) == c.error);
    }
}

TEST_CASE("web config: a hash is never quoted back", "[web_config]") {
    WebFixture f;
    const std::string error = f.load_error("invalid-user-plain-password.yml");
    CHECK_FALSE(error.empty());
    CHECK(error.find("hunter2") == std::string::npos);
}

TEST_CASE("web config: a file that cannot be read", "[web_config]") {
    WebFixture f;
    CHECK(f.load_error("missing.yml") ==
          f.file("missing.yml") + ": cannot read file: No such file or directory");
}

TEST_CASE("web config: each invalid-*.yml fails with its one message", "[web_config]") {
    WebFixture f;
    // File name -> the exact what(); {dir} stands for the folder the files were copied to.
    const std::map<std::string, std::string> expected{
        {"invalid-yaml-syntax.yml",
         "{dir}/invalid-yaml-syntax.yml:4: YAML syntax error: end of sequence flow not found "
         "(column 1)"},
        {"invalid-top-level-list.yml",
         "{dir}/invalid-top-level-list.yml:1: expected a mapping at the top level "
         "(tls_server_config, basic_auth_users, http_server_config, rate_limit), got a list"},
        {"invalid-unknown-key.yml",
         "{dir}/invalid-unknown-key.yml:1: basic_auth_user: unknown key (did you mean "
         "basic_auth_users?)"},
        {"invalid-tls-key-at-top-level.yml",
         "{dir}/invalid-tls-key-at-top-level.yml:2: cert_file: unknown key (it belongs under "
         "tls_server_config)"},
        {"invalid-tls-missing-key-file.yml",
         "{dir}/invalid-tls-missing-key-file.yml:2: tls_server_config: missing required key "
         "key_file"},
        {"invalid-tls-no-files.yml",
         "{dir}/invalid-tls-no-files.yml:2: tls_server_config: cert_file and key_file are "
         "required for TLS"},
        {"invalid-tls-cert-missing.yml",
         "{dir}/invalid-tls-cert-missing.yml:2: tls_server_config.cert_file: cannot read file "
         "\"{dir}/missing.crt\": No such file or directory"},
        {"invalid-tls-cert-not-pem.yml",
         "{dir}/invalid-tls-cert-not-pem.yml:2: tls_server_config.cert_file: not a PEM "
         "certificate: no start line"},
        {"invalid-tls-key-mismatch.yml",
         "{dir}/invalid-tls-key-mismatch.yml:3: tls_server_config.key_file: does not match the "
         "certificate in cert_file"},
        {"invalid-tls-key-not-pem.yml",
         "{dir}/invalid-tls-key-not-pem.yml:3: tls_server_config.key_file: not an unencrypted "
         "PEM private key: unsupported"},
        {"invalid-tls-key-encrypted.yml",
         "{dir}/invalid-tls-key-encrypted.yml:3: tls_server_config.key_file: the private key is "
         "encrypted (give it unencrypted, readable only by the agent's user)"},
        {"invalid-tls-empty-file-name.yml",
         "{dir}/invalid-tls-empty-file-name.yml:2: tls_server_config.cert_file: empty file name"},
        {"invalid-tls-client-auth-type.yml",
         "{dir}/invalid-tls-client-auth-type.yml:4: tls_server_config.client_auth_type: unknown "
         "client_auth_type \"Always\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
         "VerifyClientCertIfGiven, RequireAndVerifyClientCert)"},
        {"invalid-tls-verify-without-ca.yml",
         "{dir}/invalid-tls-verify-without-ca.yml:4: tls_server_config.client_auth_type: "
         "RequireAndVerifyClientCert needs client_ca_file"},
        {"invalid-tls-ca-without-client-auth.yml",
         "{dir}/invalid-tls-ca-without-client-auth.yml:4: tls_server_config.client_ca_file: "
         "client certificates are not asked for (set client_auth_type, e.g. "
         "RequireAndVerifyClientCert)"},
        {"invalid-tls-ca-not-pem.yml",
         "{dir}/invalid-tls-ca-not-pem.yml:5: tls_server_config.client_ca_file: no PEM "
         "certificate in it: no certificate or crl found"},
        {"invalid-tls-min-version.yml",
         "{dir}/invalid-tls-min-version.yml:4: tls_server_config.min_version: unknown TLS "
         "version \"TLS1.2\" (TLS10, TLS11, TLS12, TLS13)"},
        {"invalid-tls-max-below-min.yml",
         "{dir}/invalid-tls-max-below-min.yml:5: tls_server_config.max_version: lower than "
         "min_version (TLS13)"},
        {"invalid-tls-cipher-suites.yml",
         "{dir}/invalid-tls-cipher-suites.yml:4: tls_server_config.cipher_suites: not supported: "
         "GnuTLS picks the cipher suites and curves for the TLS versions allowed (set "
         "min_version)"},
        {"invalid-user-plain-password.yml",
         "{dir}/invalid-user-plain-password.yml:3: basic_auth_users.alice: not a bcrypt hash "
         "(make one with: htpasswd -nbBC 10 USER PASSWORD)"},
        {"invalid-user-colon.yml",
         "{dir}/invalid-user-colon.yml:2: basic_auth_users.al:ice: a user name cannot contain "
         "\":\" (RFC 7617 section 2)"},
        {"invalid-users-not-mapping.yml",
         "{dir}/invalid-users-not-mapping.yml:2: basic_auth_users: expected a mapping, got a "
         "list"},
        {"invalid-user-duplicate.yml",
         "{dir}/invalid-user-duplicate.yml:4: basic_auth_users.alice: duplicate key (first at "
         "line 2)"},
        {"invalid-user-bcrypt-cost.yml",
         "{dir}/invalid-user-bcrypt-cost.yml:2: basic_auth_users.alice: not a bcrypt hash (make "
         "one with: htpasswd -nbBC 10 USER PASSWORD)"},
        {"invalid-header-name.yml",
         "{dir}/invalid-header-name.yml:3: http_server_config.headers.X-Powered-By: not a header "
         "that may be set (Content-Security-Policy, Strict-Transport-Security, "
         "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection)"},
        {"invalid-header-value.yml",
         "{dir}/invalid-header-value.yml:3: http_server_config.headers.Content-Security-Policy: "
         "not a header value: empty, or holds a control or non-ASCII character"},
        {"invalid-header-nosniff.yml",
         "{dir}/invalid-header-nosniff.yml:3: http_server_config.headers.X-Content-Type-Options: "
         "the only value is nosniff"},
        {"invalid-http2.yml",
         "{dir}/invalid-http2.yml:2: http_server_config.http2: not supported: the server speaks "
         "HTTP/1.1 only"},
        {"invalid-rate-limit-burst.yml",
         "{dir}/invalid-rate-limit-burst.yml:3: rate_limit.burst: out of range: 0 (allowed "
         "1..1000000)"},
        {"invalid-rate-limit-interval.yml",
         "{dir}/invalid-rate-limit-interval.yml:2: rate_limit.interval: not a duration: \"fast\" "
         "(use e.g. 500ms, 2s, 1m)"},
    };

    // Every file has its message and every message its file (the copies are in f.dir()).
    soawatch::test::check_invalid_files(
        f.dir(), expected,
        [](const std::string& path) {
            return soawatch::test::config_error_of([&] { load_web_config(path); });
        },
        25);
}
