// A libmicrohttpd connection set aside (suspended) while work for it runs on another thread: a
// /probe waiting for its DNS check, a /metrics body waiting for its next piece. Suspension frees
// the event thread at once; the work resumes the connection when it has something to send. The
// server's stop resumes every parked connection first (libmicrohttpd 0.9.75 must not be stopped
// with suspended connections) and tells the work to end.
#pragma once

#include <microhttpd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "agent/common/thread_annotations.hpp"

namespace soawatch {

class ParkedConnection {
  public:
    explicit ParkedConnection(MHD_Connection* connection) : connection_(connection) {}
    virtual ~ParkedConnection() = default;
    ParkedConnection(const ParkedConnection&) = delete;
    ParkedConnection& operator=(const ParkedConnection&) = delete;

    // On the connection's event thread (access handler or content reader only, as
    // libmicrohttpd requires). False once cancelled: the caller answers at once instead.
    bool park();
    // From any thread: lets the connection go on if it is parked. Thread-safe.
    void unpark();
    // From the server's stop: unparks for good and tells the work to end. Thread-safe.
    void cancel();
    bool cancelled() const;

  protected:
    // Called (with no lock held) by cancel(), so the work can stop early.
    virtual void on_cancel() {}

  private:
    mutable Mutex mutex_;
    MHD_Connection* connection_;  // valid while the request lives; used only while parked
    bool parked_ GUARDED_BY(mutex_) = false;
    bool cancelled_ GUARDED_BY(mutex_) = false;
};

// Every parked-capable connection of a server, for its stop.
class ParkedConnections {
  public:
    // Registers `c`; after cancel_all() it is cancelled at once instead. Thread-safe.
    void add(const std::shared_ptr<ParkedConnection>& c);
    // Cancels every registered one, and every one added later. Thread-safe.
    void cancel_all();

  private:
    Mutex mutex_;
    bool closed_ GUARDED_BY(mutex_) = false;
    std::vector<std::weak_ptr<ParkedConnection>> list_ GUARDED_BY(mutex_);
};

}  // namespace soawatch
