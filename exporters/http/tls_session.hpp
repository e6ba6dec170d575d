// tls_server_config in GnuTLS terms, for libmicrohttpd's TLS: the priority string (protocol
// versions, server cipher preference) and, per session before its handshake, the client
// certificate policy. Each of the exporter-toolkit's client_auth_type values maps to GnuTLS's
// request mode and its verification during the handshake, so a client that must present a
// verified certificate is refused in the handshake, as Go's crypto/tls does.
#pragma once

#include <gnutls/gnutls.h>

#include <string>

#include "exporters/http/web_config.hpp"

namespace soawatch {

// "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2[:%SERVER_PRECEDENCE]" and the like.
std::string gnutls_priorities(const TlsServerConfig& config);

struct TlsSessionSettings {
    gnutls_certificate_request_t request = GNUTLS_CERT_IGNORE;
    bool verify = false;  // against client_ca_file, in the handshake
};

TlsSessionSettings tls_session_settings(const TlsServerConfig& config);

// Applies `settings` to a server session whose handshake has not begun.
void apply_tls_session_settings(gnutls_session_t session, const TlsSessionSettings& settings);

}  // namespace soawatch
