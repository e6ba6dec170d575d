// An OpenSSL server context set up from tls_server_config: certificate chain and key from
// separate files, protocol versions, and client certificate verification. Used to validate the
// files with one exact message per problem, at load and again when the HTTP server starts; the
// server itself serves TLS through GnuTLS (exporters/http/tls_session.hpp).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

#include "exporters/http/web_config.hpp"

namespace soawatch {

struct TlsSetupError {
    std::string key;      // the tls_server_config key it belongs to: "cert_file", "key_file", ...
    std::string message;  // one line
};

// Configures `ctx` (a server context). Returns the first problem, or nullopt when it is ready.
std::optional<TlsSetupError> configure_tls_context(SSL_CTX* ctx, const TlsServerConfig& config);

struct SslCtxDeleter {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A fresh server context configured from `config`; *error set and null when it cannot be.
SslCtxPtr make_tls_context(const TlsServerConfig& config, TlsSetupError* error);

}  // namespace soawatch
