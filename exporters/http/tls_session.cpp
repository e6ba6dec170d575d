#include "exporters/http/tls_session.hpp"

#include <array>

namespace soawatch {

namespace {

const char* gnutls_version(TlsVersion version) {
    switch (version) {
        case TlsVersion::tls10:
            return "VERS-TLS1.0";
        case TlsVersion::tls11:
            return "VERS-TLS1.1";
        case TlsVersion::tls12:
            return "VERS-TLS1.2";
        case TlsVersion::tls13:
            return "VERS-TLS1.3";
    }
    return "VERS-TLS1.2";
}

}  // namespace

std::string gnutls_priorities(const TlsServerConfig& config) {
    constexpr std::array kAll{TlsVersion::tls10, TlsVersion::tls11, TlsVersion::tls12,
                              TlsVersion::tls13};
    const TlsVersion max = config.max_version.value_or(TlsVersion::tls13);
    // Only the versions from min_version to max_version; no SSL 3.0, no compression (GnuTLS
    // has none), safe renegotiation only (the NORMAL default).
    std::string priorities = "NORMAL:-VERS-ALL";
    for (const TlsVersion v : kAll) {
        if (v >= config.min_version && v <= max)
            priorities += std::string(":+") + gnutls_version(v);
    }
    if (config.prefer_server_cipher_suites) priorities += ":%SERVER_PRECEDENCE";
    return priorities;
}

TlsSessionSettings tls_session_settings(const TlsServerConfig& config) {
    switch (config.client_auth) {
        case ClientAuth::none:
            return {GNUTLS_CERT_IGNORE, false};
        case ClientAuth::request:
            return {GNUTLS_CERT_REQUEST, false};
        case ClientAuth::require_any:
            return {GNUTLS_CERT_REQUIRE, false};
        case ClientAuth::verify_if_given:
            return {GNUTLS_CERT_REQUEST, true};
        case ClientAuth::require_and_verify:
            return {GNUTLS_CERT_REQUIRE, true};
    }
    return {};
}

namespace {

// In the handshake, once the client's Certificate message is in: a certificate sent must chain
// to client_ca_file (RFC 8446 section 4.4.2.4: the server aborts with a certificate alert); none
// sent is for the request mode to judge (GNUTLS_CERT_REQUIRE refuses that itself).
int verify_client_certificate(gnutls_session_t session) {
    unsigned int count = 0;
    if (gnutls_certificate_get_peers(session, &count) == nullptr || count == 0) return 0;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0)
        return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
    return 0;
}

}  // namespace

void apply_tls_session_settings(gnutls_session_t session, const TlsSessionSettings& settings) {
    gnutls_certificate_server_set_request(session, settings.request);
    if (settings.verify) gnutls_session_set_verify_function(session, &verify_client_certificate);
}

}  // namespace soawatch
