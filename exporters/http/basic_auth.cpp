#include "exporters/http/basic_auth.hpp"
#include "agent/common/base64.hpp"
#include "agent/common/thread_annotations.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace soawatch {
namespace {

constexpr std::size_t kMaxCachedCredentials = 64;
constexpr std::string_view kScheme = "Basic ";

// crypt_ra's scratch space holds password-derived state: wiped before it is freed.
struct CryptScratch {
    void* data = nullptr;
    int size = 0;
    CryptScratch() = default;
    CryptScratch(const CryptScratch&) = delete;
    CryptScratch& operator=(const CryptScratch&) = delete;
    ~CryptScratch() {
        if (data != nullptr) {
            explicit_bzero(data, static_cast<std::size_t>(size));
            std::free(data);
        }
    }
};

// The hash crypt(3) computes for `password` with the salt and cost of `hash`, compared with
// `hash` in constant time.
bool bcrypt_matches(const std::string& password, const std::string& hash) {
    CryptScratch scratch;
    const char* computed = crypt_ra(password.c_str(), hash.c_str(), &scratch.data, &scratch.size);
    if (computed == nullptr) return false;
    const std::size_t length = std::strlen(computed);
    return length == hash.size() && CRYPTO_memcmp(computed, hash.data(), length) == 0;
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
    if (RAND_bytes(cache_secret_.data(), static_cast<int>(cache_secret_.size())) != 1) {
        throw std::runtime_error("cannot draw random bytes for the credential cache");
    }
}

std::size_t BasicAuth::bcrypt_checks() const {
    MutexLock lock(mutex_);
    return bcrypt_checks_;
}

BasicAuth::Digest BasicAuth::cache_key(std::string_view user, std::string_view password,
                                       const std::string& hash) const {
    // Lengths first, so no two (user, password, hash) triples share a message.
    std::string message;
    for (const std::string_view part : {user, password, std::string_view(hash)}) {
        message += std::to_string(part.size());
        message += ':';
        message += part;
    }
    Digest digest{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), cache_secret_.data(), static_cast<int>(cache_secret_.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
         &length);
    OPENSSL_cleanse(message.data(), message.size());
    return digest;
}

bool BasicAuth::verify(std::string_view user, std::string_view password) {
    // NUL would end the passphrase early for crypt(3); libxcrypt caps the length.
    const bool usable = password.find('\0') == std::string_view::npos &&
                        password.size() < CRYPT_MAX_PASSPHRASE_SIZE;
    const auto it = users_.find(std::string(user));
    // An unknown user still costs one bcrypt (against some user's hash, so the same cost):
    // the time of a 401 does not tell which user names exist.
    const std::string& hash = it != users_.end() ? it->second : users_.begin()->second;
    const Digest key = cache_key(user, password, hash);
    if (it != users_.end()) {
        MutexLock lock(mutex_);
        if (cache_.count(key) != 0) return true;
    }
    std::string phrase(password);
    bool ok = false;
    {
        MutexLock bcrypt_lock(bcrypt_mutex_);
        ok = bcrypt_matches(usable ? phrase : std::string(), hash) && usable && it != users_.end();
    }
    OPENSSL_cleanse(phrase.data(), phrase.size());
    MutexLock lock(mutex_);
    ++bcrypt_checks_;
    if (ok) {
        if (cache_.size() >= kMaxCachedCredentials) cache_.clear();
        cache_.insert(key);
    }
    return ok;
}

bool BasicAuth::allows(std::string_view authorization) {
    if (users_.empty()) return true;
    // RFC 7617 section 2: the scheme name is case-insensitive.
    if (authorization.size() <= kScheme.size() ||
        strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0) {
        return false;
    }
    std::string_view encoded = authorization.substr(kScheme.size());
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
    std::optional<std::string> credentials = decode_base64(encoded);
    if (!credentials) return false;
    std::string& decoded = *credentials;
    const std::size_t colon = decoded.find(':');
    bool ok = false;
    if (colon != std::string::npos) {
        ok = verify(std::string_view(decoded).substr(0, colon),
                    std::string_view(decoded).substr(colon + 1));
    }
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return ok;
}

}  // namespace soawatch
