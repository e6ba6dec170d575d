#include "exporters/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "agent/config/yaml_reader.hpp"

namespace soawatch {
namespace {

// The reason of the first queued OpenSSL error, the cause rather than the wrappers around it
// ("no start line", not "PEM lib"); the queue is emptied so the next call starts clean.
std::string openssl_reason() {
    const unsigned long first = ERR_get_error();
    ERR_clear_error();
    if (first == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(first);
    if (reason != nullptr) return reason;
    char buffer[256];
    ERR_error_string_n(first, buffer, sizeof buffer);
    return buffer;
}

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// A file that cannot be opened gets errno's words, which say more than OpenSSL's "system lib".
std::optional<TlsSetupError> unreadable(const std::string& key, const std::string& path) {
    errno = 0;
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (file) return std::nullopt;
    return TlsSetupError{key,
                         "cannot read file " + yaml::quoted(path) + ": " + yaml::errno_text(errno)};
}

int protocol_version(TlsVersion version) {
    switch (version) {
        case TlsVersion::tls10:
            return TLS1_VERSION;
        case TlsVersion::tls11:
            return TLS1_1_VERSION;
        case TlsVersion::tls12:
            return TLS1_2_VERSION;
        case TlsVersion::tls13:
            return TLS1_3_VERSION;
    }
    return TLS1_2_VERSION;
}

// Encrypted keys would make OpenSSL prompt on the terminal; refuse instead, and note that a
// passphrase was asked for (`user` points to a bool, or is null).
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* user) {
    if (user != nullptr) *static_cast<bool*>(user) = true;
    return 0;
}

// RequestClientCert and RequireAnyClientCert ask for a certificate but accept any.
int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) {
    return 1;
}

}  // namespace

std::optional<TlsSetupError> configure_tls_context(SSL_CTX* ctx, const TlsServerConfig& config) {
    ERR_clear_error();
    SSL_CTX_set_default_passwd_cb(ctx, &no_passphrase);

    if (auto error = unreadable("cert_file", config.cert_file)) return error;
    if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_file.c_str()) != 1) {
        return TlsSetupError{"cert_file", "not a PEM certificate: " + openssl_reason()};
    }
    if (auto error = unreadable("key_file", config.key_file)) return error;
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key;
    bool encrypted = false;
    {
        const std::unique_ptr<std::FILE, FileCloser> file(
            std::fopen(config.key_file.c_str(), "rb"));
        if (file) key.reset(PEM_read_PrivateKey(file.get(), nullptr, &no_passphrase, &encrypted));
    }
    if (!key) {
        const std::string reason = openssl_reason();
        if (encrypted) {
            return TlsSetupError{"key_file",
                                 "the private key is encrypted (give it unencrypted, readable "
                                 "only by the agent's user)"};
        }
        return TlsSetupError{"key_file", "not an unencrypted PEM private key: " + reason};
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        return TlsSetupError{"key_file", "does not match the certificate in cert_file"};
    }

    // A context may come with SSL_OP_NO_TLSv1 and the like set: the versions configured here
    // are the only limit.
    SSL_CTX_clear_options(ctx, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                   SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3);
    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv3);
    if (SSL_CTX_set_min_proto_version(ctx, protocol_version(config.min_version)) != 1) {
        return TlsSetupError{"min_version", openssl_reason()};
    }
    const int max = config.max_version ? protocol_version(*config.max_version) : 0;
    if (SSL_CTX_set_max_proto_version(ctx, max) != 1) {
        return TlsSetupError{"max_version", openssl_reason()};
    }
    if (config.prefer_server_cipher_suites) {
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    } else {
        SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

    if (!config.client_ca_file.empty()) {
        if (auto error = unreadable("client_ca_file", config.client_ca_file)) return error;
        if (SSL_CTX_load_verify_locations(ctx, config.client_ca_file.c_str(), nullptr) != 1) {
            return TlsSetupError{"client_ca_file", "no PEM certificate in it: " + openssl_reason()};
        }
        // The CA names sent in the CertificateRequest, so clients pick the right certificate.
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
        if (names == nullptr) {
            return TlsSetupError{"client_ca_file", "no PEM certificate in it: " + openssl_reason()};
        }
        SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    }
    switch (config.client_auth) {
        case ClientAuth::none:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
            break;
        case ClientAuth::request:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &accept_any_certificate);
            break;
        case ClientAuth::require_any:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                               &accept_any_certificate);
            break;
        case ClientAuth::verify_if_given:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
            break;
        case ClientAuth::require_and_verify:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
            break;
    }
    // Resumed sessions must belong to this server's verification settings (OpenSSL refuses to
    // resume without a context id when clients are verified).
    static constexpr unsigned char kSessionContext[] = "soawatch";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    ERR_clear_error();
    return std::nullopt;
}

SslCtxPtr make_tls_context(const TlsServerConfig& config, TlsSetupError* error) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        *error = TlsSetupError{"", "cannot create a TLS context: " + openssl_reason()};
        return nullptr;
    }
    if (auto problem = configure_tls_context(ctx.get(), config)) {
        *error = *problem;
        return nullptr;
    }
    return ctx;
}

}  // namespace soawatch
