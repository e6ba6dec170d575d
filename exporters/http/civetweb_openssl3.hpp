// Makes Debian 12's civetweb (1.15) serve TLS with Debian 12's OpenSSL 3.
//
// That civetweb is built for the OpenSSL 1.1 API and loads OpenSSL at run time:
// dlopen("libcrypto.so") and dlopen("libssl.so") (names only libssl-dev provides), then dlsym of
// each function it uses. One of them, SSL_get_peer_certificate, is a macro in OpenSSL 3 and no
// longer exported, so civetweb fails with "load_tls_dll: libssl.so: cannot find
// SSL_get_peer_certificate" (upstream civetweb issue #1334), and even when it starts it calls a
// null pointer on the first handshake.
//
// While a TlsLibraryRedirect exists, dlopen of exactly those two names returns the process's own
// global scope, where our link already brought libssl.so.3 and libcrypto.so.3, and where this
// file defines the one missing name (as OpenSSL 3's macro does: SSL_get1_peer_certificate). Every
// other dlopen, and every dlopen outside that window, goes to the C library unchanged. So TLS
// needs only libssl3 at run time, not libssl-dev.
#pragma once

namespace soawatch {

// Hold one around the civetweb call that starts a TLS listener (mg_start2). Thread-safe.
class TlsLibraryRedirect {
  public:
    TlsLibraryRedirect();
    ~TlsLibraryRedirect();
    TlsLibraryRedirect(const TlsLibraryRedirect&) = delete;
    TlsLibraryRedirect& operator=(const TlsLibraryRedirect&) = delete;
};

}  // namespace soawatch
