// A response body of unknown length (/metrics: ~200 MB at 100,000 zones) written on its own
// thread by a push-style writer (prom::StreamedText) and sent by libmicrohttpd's content reader,
// chunked. At most kMaxWaitingPieces pieces wait between the two, so memory stays bounded
// however slow the client; when the reader finds nothing to send it parks the connection and
// the writer unparks it with the next piece, so no event thread ever waits for the writer.
#pragma once

#include <microhttpd.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent/common/thread_annotations.hpp"
#include "exporters/http/background_threads.hpp"
#include "exporters/http/parked_connection.hpp"
#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

class StreamedBody : public ParkedConnection {
  public:
    using Writer = std::function<void(prom::StreamedText&)>;
    static constexpr std::size_t kMaxWaitingPieces = 2;

    // A response whose body `write` produces on a thread of `threads`; the connection is
    // registered with `parked` for the server's stop. The caller queues and releases the
    // response. Null when libmicrohttpd cannot make one.
    static MHD_Response* make_response(MHD_Connection* connection, Writer write,
                                       BackgroundThreads& threads, ParkedConnections& parked);

    explicit StreamedBody(MHD_Connection* connection) : ParkedConnection(connection) {}

  private:
    // libmicrohttpd's content reader (event thread): copies up to `max` bytes into `buffer`.
    static ssize_t read(void* cls, uint64_t position, char* buffer, size_t max);
    // libmicrohttpd frees the response: the client is gone or the body was sent.
    static void release(void* cls);
    void run(const Writer& write);        // the writer's thread
    bool take_piece(std::string_view p);  // the writer's sink; false: stop writing
    void on_cancel() override;

    Mutex mutex_;
    std::condition_variable_any room_;  // a piece was taken, or the reader is gone
    std::deque<std::string> pieces_ GUARDED_BY(mutex_);
    std::size_t offset_ GUARDED_BY(mutex_) = 0;  // into pieces_.front()
    bool finished_ GUARDED_BY(mutex_) = false;   // the writer is done
    bool failed_ GUARDED_BY(mutex_) = false;     // the writer threw: the body ends in error
    bool reader_gone_ GUARDED_BY(mutex_) = false;
};

}  // namespace soawatch
