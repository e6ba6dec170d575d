#include "exporters/http/civetweb_openssl3.hpp"

#include <dlfcn.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstring>

// OpenSSL 3's ssl.h maps the old name to the new one; we define the old name itself.
#undef SSL_get_peer_certificate

namespace soawatch {
namespace {

std::atomic<int> g_redirects{0};

using DlopenFunction = void* (*)(const char*, int);

DlopenFunction next_dlopen() {
    // The next definition after ours: the C library's (or a sanitizer's interceptor, which
    // calls the C library's).
    static const auto next = reinterpret_cast<DlopenFunction>(dlsym(RTLD_NEXT, "dlopen"));
    return next;
}

bool is_civetweb_openssl_name(const char* file) {
    return file != nullptr &&
           (std::strcmp(file, "libssl.so") == 0 || std::strcmp(file, "libcrypto.so") == 0);
}

}  // namespace

TlsLibraryRedirect::TlsLibraryRedirect() {
    ++g_redirects;
}

TlsLibraryRedirect::~TlsLibraryRedirect() {
    --g_redirects;
}

}  // namespace soawatch

extern "C" {

// Looked up by name (dlsym) by civetweb; exported from the executable by the link option
// --export-dynamic-symbol=SSL_get_peer_certificate (CMakeLists.txt).
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
    return SSL_get1_peer_certificate(ssl);
}

// Interposes the C library's dlopen for the whole process (the executable's definition comes
// first in symbol lookup); see the header for why and how narrowly.
__attribute__((visibility("default"))) void* dlopen(const char* file, int mode) {
    const soawatch::DlopenFunction next = soawatch::next_dlopen();
    if (next == nullptr) return nullptr;
    if (soawatch::g_redirects.load() > 0 && soawatch::is_civetweb_openssl_name(file)) {
        // The main program's handle: dlsym on it searches the global scope.
        return next(nullptr, mode);
    }
    return next(file, mode);
}

}  // extern "C"
