// RAII owners of libcurl's C handles (an easy handle, a multi handle, a header list), in the
// manner of prometheus-cpp's push/src/detail/curl_wrapper: each frees its handle exactly once
// and cannot be copied.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace soawatch {

struct CurlEasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlMultiDeleter {
    void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;

// A header list that grows by append(); curl_slist_append returns a new head on success and
// nullptr (leaving the old list intact) on allocation failure.
class CurlHeaders {
  public:
    void append(const std::string& line) {
        curl_slist* head = curl_slist_append(list_.get(), line.c_str());
        if (head == nullptr) throw std::bad_alloc();
        static_cast<void>(list_.release());  // the old head is the start of the new list
        list_.reset(head);
    }
    curl_slist* get() const { return list_.get(); }

  private:
    std::unique_ptr<curl_slist, CurlSlistDeleter> list_;
};

// curl_global_init once per process, before any thread uses libcurl (it is not thread-safe).
inline void curl_global_init_once() {
    static const bool initialised = [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw std::runtime_error("libcurl initialisation failed");
        return true;
    }();
    (void)initialised;
}

}  // namespace soawatch
