// The threads that requests start off libmicrohttpd's event threads: a /metrics body being
// written, a /probe waiting for its DNS check. The event threads never wait for them (the
// connection is suspended meanwhile), and the server's stop waits for them, up to a grace.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/common/thread_annotations.hpp"

namespace soawatch {

class BackgroundThreads {
  public:
    BackgroundThreads() = default;
    ~BackgroundThreads();  // joins what is left (detached threads excepted)
    BackgroundThreads(const BackgroundThreads&) = delete;
    BackgroundThreads& operator=(const BackgroundThreads&) = delete;

    // Runs `task` on a new thread; threads that have ended are joined first. Thread-safe.
    void start(std::function<void()> task);

    // Waits until every thread has ended or `grace` has passed. False when some still run: they
    // are detached and the caller must not free what they use. Thread-safe.
    bool join_all(std::chrono::milliseconds grace);

  private:
    struct Entry {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    void join_finished() REQUIRES(mutex_);

    Mutex mutex_;
    std::list<Entry> threads_ GUARDED_BY(mutex_);
};

}  // namespace soawatch
