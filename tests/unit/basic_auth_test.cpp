// Basic auth against bcrypt hashes: the header's parsing, libxcrypt's verification with the
// known crypt_blowfish test vector, the three bcrypt prefixes, and the credential cache.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "agent/common/base64.hpp"
#include "exporters/http/basic_auth.hpp"

using soawatch::BasicAuth;
using soawatch::decode_base64;

namespace {

// The crypt_blowfish test vector: "U*U" with cost 5.
const std::string kVectorHash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
// "correct horse" with cost 4, as $2b$ and as htpasswd's $2y$.
const std::string kHorse2b = "$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e";
const std::string kHorse2y = "$2y$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e";

std::string basic(const std::string& user_colon_password) {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    const std::string& in = user_colon_password;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
    }
    return "Basic " + out;
}

}  // namespace

TEST_CASE("basic auth: base64 decoding", "[basic_auth]") {
    CHECK(decode_base64("") == std::string());
    CHECK(decode_base64("YWxpY2U6c2VjcmV0") == std::string("alice:secret"));
    CHECK(decode_base64("YQ==") == std::string("a"));
    CHECK(decode_base64("YWI=") == std::string("ab"));
    for (const char* bad :
         {"YQ", "YQ=", "Y===", "YQ==YQ==", "YW=j", "YWxp Y2U=", "YWxp\nY2U=", "YW-_", "=AAA"}) {
        INFO(bad);
        CHECK_FALSE(decode_base64(bad));
    }
}

TEST_CASE("basic auth: no users lets everything through", "[basic_auth]") {
    BasicAuth auth({});
    CHECK(auth.disabled());
    CHECK(auth.allows(""));
    CHECK(auth.allows("Basic garbage"));
}

TEST_CASE("basic auth: the crypt_blowfish vector and every bcrypt prefix", "[basic_auth]") {
    BasicAuth auth({{"vector", kVectorHash}, {"b", kHorse2b}, {"y", kHorse2y}});
    CHECK_FALSE(auth.disabled());
    CHECK(auth.allows(basic("vector:U*U")));
    CHECK(auth.allows(basic("b:correct horse")));
    CHECK(auth.allows(basic("y:correct horse")));
    CHECK_FALSE(auth.allows(basic("vector:U*V")));
    CHECK_FALSE(auth.allows(basic("y:correct horsE")));
    CHECK_FALSE(auth.allows(basic("b:correct horse ")));
    // Right password, other user.
    CHECK_FALSE(auth.allows(basic("vector:correct horse")));
    CHECK_FALSE(auth.allows(basic("nobody:U*U")));
}

TEST_CASE("basic auth: malformed headers are refused", "[basic_auth]") {
    BasicAuth auth({{"vector", kVectorHash}});
    const std::string good = basic("vector:U*U");
    CHECK(auth.allows(good));
    CHECK(auth.allows("basic " + good.substr(6)));   // the scheme is case-insensitive
    CHECK(auth.allows("BASIC  " + good.substr(6)));  // extra blanks around the token
    for (const std::string& bad :
         {std::string(), std::string("Basic"), std::string("Basic "), std::string("Bearer x"),
          "Digest " + good.substr(6), good.substr(6), std::string("Basic !!!!"), basic("vectorU*U"),
          basic(":U*U"), basic("vector:"), basic(std::string("vector:U*U\0x", 12))}) {
        INFO(bad);
        CHECK_FALSE(auth.allows(bad));
    }
}

TEST_CASE("basic auth: a colon in the password belongs to the password", "[basic_auth]") {
    // RFC 7617 section 2: the user-id ends at the first colon.
    // "a:b" with cost 4.
    const std::string hash = "$2b$04$abcdefghijklmnopqrstuuIQ9AyrP6qHpzJiEKQ5zxtEz3TPNwuMe";
    BasicAuth auth({{"u", hash}});
    CHECK(auth.allows(basic("u:a:b")));
    CHECK_FALSE(auth.allows(basic("u:a")));
    CHECK_FALSE(auth.allows(basic("u:a:b:")));
}

TEST_CASE("basic auth: passed credentials are cached, failed ones are not", "[basic_auth]") {
    BasicAuth auth({{"vector", kVectorHash}, {"y", kHorse2y}});
    CHECK(auth.allows(basic("vector:U*U")));
    CHECK(auth.bcrypt_checks() == 1);
    for (int i = 0; i < 5; ++i) CHECK(auth.allows(basic("vector:U*U")));
    CHECK(auth.bcrypt_checks() == 1);
    // The cache is per (user, password): another password, or user, runs bcrypt.
    CHECK_FALSE(auth.allows(basic("vector:wrong")));
    CHECK_FALSE(auth.allows(basic("vector:wrong")));
    CHECK(auth.bcrypt_checks() == 3);
    CHECK(auth.allows(basic("y:correct horse")));
    CHECK(auth.bcrypt_checks() == 4);
    // An unknown user costs a bcrypt too (no timing difference to find user names by).
    CHECK_FALSE(auth.allows(basic("nobody:U*U")));
    CHECK(auth.bcrypt_checks() == 5);
    // A new user table (a reload) starts with an empty cache.
    BasicAuth reloaded({{"vector", kVectorHash}});
    CHECK(reloaded.allows(basic("vector:U*U")));
    CHECK(reloaded.bcrypt_checks() == 1);
}
