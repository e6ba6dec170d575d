#include "exporters/http/streamed_body.hpp"
#include "agent/common/thread_annotations.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "agent/common/log.hpp"

namespace soawatch {

namespace {

// The response's reference to its body: libmicrohttpd hands it back to read() and release().
struct BodyHandle {
    std::shared_ptr<StreamedBody> body;
};

}  // namespace

MHD_Response* StreamedBody::make_response(MHD_Connection* connection, Writer write,
                                          BackgroundThreads& threads, ParkedConnections& parked) {
    auto body = std::make_shared<StreamedBody>(connection);
    auto handle = std::make_unique<BodyHandle>(BodyHandle{body});
    // libmicrohttpd's own piece size follows the connection's buffer (its memory limit).
    MHD_Response* response = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, std::size_t{64} * 1024, &StreamedBody::read, handle.get(),
        &StreamedBody::release);
    if (response == nullptr) return nullptr;
    (void)handle.release();  // owned by the response now: freed in release()
    parked.add(body);
    threads.start([body, write = std::move(write)] { body->run(write); });
    return response;
}

void StreamedBody::run(const Writer& write) {
    prom::StreamedText out([this](std::string_view piece) { return take_piece(piece); });
    bool ok = true;
    try {
        write(out);
        ok = out.finish();
    } catch (const std::exception& e) {
        log::error("HTTP response body not written", {{"error", e.what()}});
        ok = false;
    } catch (...) {
        log::error("HTTP response body not written", {{"error", "unknown"}});
        ok = false;
    }
    {
        MutexLock lock(mutex_);
        finished_ = true;
        failed_ = !ok && !reader_gone_;
    }
    unpark();
}

bool StreamedBody::take_piece(std::string_view piece) {
    {
        MutexLock lock(mutex_);
        while (!reader_gone_ && pieces_.size() >= kMaxWaitingPieces) lock.wait(room_);
        if (reader_gone_) return false;
        pieces_.emplace_back(piece);
    }
    unpark();
    return true;
}

ssize_t StreamedBody::read(void* cls, uint64_t /*position*/, char* buffer, size_t max) {
    StreamedBody& self = *static_cast<BodyHandle*>(cls)->body;
    MutexLock lock(self.mutex_);
    if (self.pieces_.empty()) {
        if (self.finished_) {
            return self.failed_ ? MHD_CONTENT_READER_END_WITH_ERROR
                                : MHD_CONTENT_READER_END_OF_STREAM;
        }
        // Nothing to send yet: the writer unparks the connection with its next piece. Parked
        // under the lock, so a piece cannot come in between the look and the parking unseen.
        if (!self.park()) return MHD_CONTENT_READER_END_WITH_ERROR;  // the server stops
        return 0;
    }
    const std::string& front = self.pieces_.front();
    const std::size_t n = std::min(max, front.size() - self.offset_);
    std::copy_n(front.data() + self.offset_, n, buffer);
    self.offset_ += n;
    if (self.offset_ == front.size()) {
        self.pieces_.pop_front();
        self.offset_ = 0;
        self.room_.notify_all();
    }
    return static_cast<ssize_t>(n);
}

void StreamedBody::release(void* cls) {
    const std::unique_ptr<BodyHandle> handle(static_cast<BodyHandle*>(cls));
    {
        MutexLock lock(handle->body->mutex_);
        handle->body->reader_gone_ = true;
    }
    handle->body->room_.notify_all();
}

void StreamedBody::on_cancel() {
    {
        MutexLock lock(mutex_);
        reader_gone_ = true;
    }
    room_.notify_all();
}

}  // namespace soawatch
