// The request being served, as libmicrohttpd hands it over: its method, path, headers and query,
// and the state kept with its connection. Internal to exporters/http.
#pragma once

#include <microhttpd.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/common/thread_annotations.hpp"
#include "exporters/http/http_response.hpp"
#include "exporters/http/parked_connection.hpp"

namespace soawatch {

inline constexpr std::size_t kMaxQueryValue = 1024;

// A deferred answer being made on a background thread, its connection parked meanwhile.
struct DeferredJob : ParkedConnection {
    using ParkedConnection::ParkedConnection;
    Mutex mutex;
    bool done GUARDED_BY(mutex) = false;
    Response result GUARDED_BY(mutex);
};

// The request being served on a connection, reset when its request line arrives (libmicrohttpd's
// URI callback). It belongs to the connection (libmicrohttpd's socket context, from its start to
// its close), not to the request: a request cut short before its headers end gets no completion
// notice, so state owned per request would leak with every such client.
struct RequestState {
    std::string raw_uri;                    // as sent: path and query string, undecoded
    bool headers_seen = false;              // the access handler's first call is done
    bool answered = false;                  // a response is queued (later calls only drain a body)
    std::shared_ptr<DeferredJob> deferred;  // set while its answer is made elsewhere
};

struct Request {
    MHD_Connection* connection = nullptr;
    std::string_view method;
    std::string_view path;  // decoded, without the query
    std::string_view version;
    RequestState* state = nullptr;

    const char* header(const char* name) const {
        return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
    }
    // The query string as sent (after '?', undecoded); empty when none.
    std::string_view raw_query() const {
        const std::string_view uri = state->raw_uri;
        const auto q = uri.find('?');
        return q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
    }
    // The decoded value of a query parameter; nullopt when absent. *too_long when too long.
    std::optional<std::string> query(const char* name, bool* too_long) const {
        const char* value = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
        if (value == nullptr) return std::nullopt;
        const std::size_t n = std::strlen(value);
        if (n > kMaxQueryValue) {
            *too_long = true;
            return std::nullopt;
        }
        return std::string(value, n);
    }
    bool head() const { return method == "HEAD"; }
    // HTTP/1.1 (Prometheus, curl, browsers) takes a body of unknown length, chunked; 1.0 does not.
    bool takes_chunked() const { return version != MHD_HTTP_VERSION_1_0; }
};

}  // namespace soawatch
