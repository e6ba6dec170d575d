// The single-threaded event loop that drives all DNS I/O: epoll for sockets, a timer heap for
// deadlines and schedules, and an eventfd so other threads can post work to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "agent/common/thread_annotations.hpp"
#include "probes/datagram_batch.hpp"
#include "probes/unique_fd.hpp"

namespace soawatch {

class EventLoop {
  public:
    using Clock = std::chrono::steady_clock;
    using TimerId = uint64_t;
    using FdHandler = std::function<void(bool readable, bool writable)>;

    EventLoop();  // throws std::system_error when epoll or eventfd cannot be created
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Loop thread only. Runs fn once at (or soon after) `when`. Returns an id for cancel_timer.
    TimerId add_timer(Clock::time_point when, std::function<void()> fn);
    TimerId add_timer(Clock::duration delay, std::function<void()> fn) {
        return add_timer(Clock::now() + delay, std::move(fn));
    }
    void cancel_timer(TimerId id);  // no-op for fired or unknown ids

    // Loop thread only. Adds or updates interest in fd; both false removes it.
    void watch_fd(int fd, bool read, bool write, FdHandler handler);
    void unwatch_fd(int fd);

    // Any thread. Queues fn to run on the loop thread and wakes the loop.
    void post(std::function<void()> fn);

    // Runs until stop(); or until done() is true, checked after every batch of events.
    void run();
    void run_until(const std::function<bool()>& done);
    void stop();  // any thread

    std::size_t pending_timers() const { return timers_.size(); }

    // Loop thread only. The UDP datagrams of the loop's c-ares sockets, sent and read many to a
    // system call; queued datagrams leave before the loop waits.
    DatagramBatch& datagrams() { return datagrams_; }

  private:
    struct TimerEntry {
        Clock::time_point when;
        TimerId id;
        bool operator>(const TimerEntry& o) const {
            return when != o.when ? when > o.when : id > o.id;
        }
    };
    void run_once(int max_wait_ms);
    void run_due_timers();
    void run_posted();
    // Sends the queued datagrams and has the sockets with something left to read (a send error,
    // datagrams read ahead) read; true when it ran handlers, whose work may be due at once.
    bool settle_datagrams();

    UniqueFd epoll_fd_;
    UniqueFd wake_fd_;  // eventfd: post() and stop() from other threads wake the loop
    bool stopping_ = false;
    TimerId next_timer_id_ = 1;
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_heap_;
    std::unordered_map<TimerId, std::function<void()>> timers_;
    std::unordered_map<int, FdHandler> fd_handlers_;
    DatagramBatch datagrams_;
    // What other threads hand the loop (post, stop).
    Mutex posted_mutex_;
    std::vector<std::function<void()>> posted_ GUARDED_BY(posted_mutex_);
    bool stop_requested_ GUARDED_BY(posted_mutex_) = false;
};

}  // namespace soawatch
