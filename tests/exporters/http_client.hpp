// A minimal libcurl (easy interface) client for the HTTP server tests.
#pragma once

#include <curl/curl.h>

#include <cctype>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporters/alerts/curl_handles.hpp"

namespace soawatch::test {

struct HttpReply {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case; last value wins
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

inline std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        const auto last = value.find_last_not_of(" \t\r\n");
        value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
        (*headers)[name] = value;
    }
    return size * n;
}

struct RequestOptions {
    std::string method = "GET";  // GET, HEAD, POST (body sent as is), or any other verb
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
    std::string user_password;         // "user:password" for basic auth; empty: none
    std::string ca_file;               // https: trust this CA (and check the name)
    std::string client_cert, client_key;
    long tls_max_version = 0;  // e.g. CURL_SSLVERSION_MAX_TLSv1_2; 0: no limit
    long tls_min_version = CURL_SSLVERSION_TLSv1_2;  // e.g. CURL_SSLVERSION_TLSv1_3
};

// Fetches url (http:// or https://). Throws std::runtime_error when no HTTP reply comes back.
inline HttpReply http_request(const std::string& url, const RequestOptions& options) {
    const std::string& method = options.method;
    const std::string& body = options.body;
    const CurlEasy curl(curl_easy_init());
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    HttpReply reply;
    CurlHeaders headers;
    headers.append("Expect:");  // no 100-continue round trip for POST bodies
    for (const std::string& header : options.headers) headers.append(header);
    if (!options.user_password.empty()) {
        curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(curl.get(), CURLOPT_USERPWD, options.user_password.c_str());
    }
    if (!options.ca_file.empty())
        curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.client_cert.empty()) {
        curl_easy_setopt(curl.get(), CURLOPT_SSLCERT, options.client_cert.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_SSLKEY, options.client_key.c_str());
    }
    if (options.tls_max_version != 0 || options.tls_min_version != CURL_SSLVERSION_TLSv1_2) {
        curl_easy_setopt(curl.get(), CURLOPT_SSLVERSION,
                         options.tls_min_version | options.tls_max_version);
    }
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &collect_header);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_PATH_AS_IS, 1L);
    if (method == "HEAD") {
        curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
    } else if (method == "POST") {
        curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else if (method != "GET") {
        curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK)
        throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc) + " (" + url + ")");
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
}

// Fetches http://127.0.0.1:port{path}. method: GET, HEAD, POST (body sent as is).
inline HttpReply http_request(const std::string& url, const std::string& method = "GET",
                              const std::string& body = "") {
    RequestOptions options;
    options.method = method;
    options.body = body;
    return http_request(url, options);
}

}  // namespace soawatch::test
