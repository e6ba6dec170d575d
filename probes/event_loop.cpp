#include "probes/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace soawatch {

EventLoop::EventLoop()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    // Members own what they opened: a throw here closes whichever of the two was opened.
    if (!epoll_fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    if (!wake_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_.get();
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(eventfd)");
}

EventLoop::~EventLoop() = default;

EventLoop::TimerId EventLoop::add_timer(Clock::time_point when, std::function<void()> fn) {
    TimerId id = next_timer_id_++;
    timers_.emplace(id, std::move(fn));
    timer_heap_.push({when, id});
    return id;
}

void EventLoop::cancel_timer(TimerId id) {
    timers_.erase(id);
}

void EventLoop::watch_fd(int fd, bool read, bool write, FdHandler handler) {
    if (!read && !write) {
        unwatch_fd(fd);
        return;
    }
    epoll_event ev{};
    ev.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    auto it = fd_handlers_.find(fd);
    if (it == fd_handlers_.end()) {
        if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
        fd_handlers_.emplace(fd, std::move(handler));
    } else {
        epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
        it->second = std::move(handler);
    }
}

void EventLoop::unwatch_fd(int fd) {
    if (fd_handlers_.erase(fd) > 0) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::post(std::function<void()> fn) {
    {
        MutexLock lock(posted_mutex_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_.get(), &one, sizeof one);
}

void EventLoop::stop() {
    {
        MutexLock lock(posted_mutex_);
        stop_requested_ = true;
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_.get(), &one, sizeof one);
}

void EventLoop::run() {
    run_until([] { return false; });
}

void EventLoop::run_until(const std::function<bool()>& done) {
    stopping_ = false;
    while (!stopping_ && !done()) {
        // First: what the handlers it runs schedule (timers due now, a finished round) is
        // seen below, and by done() after a wait of 0.
        const bool busy = settle_datagrams();
        int wait_ms = 1000;
        // Drop cancelled timers at the top so they do not shorten the wait.
        while (!timer_heap_.empty() && !timers_.contains(timer_heap_.top().id)) timer_heap_.pop();
        if (!timer_heap_.empty()) {
            auto delta = timer_heap_.top().when - Clock::now();
            // Round up so a timer is never run before it is due.
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(delta).count();
            wait_ms = ms <= 0 ? 0 : (ms < 1000 ? static_cast<int>(ms) : 1000);
        }
        if (busy) wait_ms = 0;
        run_once(wait_ms);
    }
    // Nothing stays queued while the loop is not running.
    datagrams_.flush();
}

bool EventLoop::settle_datagrams() {
    datagrams_.flush();
    if (!datagrams_.has_unread()) return false;
    for (const int fd : datagrams_.unread()) {
        // An earlier handler may have closed it, and its number gone to another socket since.
        if (!datagrams_.offered(fd)) continue;
        const auto it = fd_handlers_.find(fd);
        if (it == fd_handlers_.end()) continue;
        FdHandler handler = it->second;  // a copy: the handler may unwatch itself
        handler(true, false);
    }
    datagrams_.settle_unread();
    return true;
}

void EventLoop::run_once(int max_wait_ms) {
    constexpr int kMaxEvents = 256;
    epoll_event events[kMaxEvents];
    int n = epoll_wait(epoll_fd_.get(), events, kMaxEvents, max_wait_ms);
    for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd_.get()) {
            uint64_t count;
            [[maybe_unused]] auto r = read(wake_fd_.get(), &count, sizeof count);
            continue;
        }
        auto it = fd_handlers_.find(fd);
        if (it == fd_handlers_.end()) continue;
        bool readable = events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP);
        bool writable = events[i].events & (EPOLLOUT | EPOLLERR);
        // Copy: the handler may unwatch (and so destroy) itself.
        FdHandler handler = it->second;
        handler(readable, writable);
    }
    run_posted();
    run_due_timers();
}

void EventLoop::run_due_timers() {
    const auto now = Clock::now();
    while (!timer_heap_.empty() && timer_heap_.top().when <= now) {
        TimerId id = timer_heap_.top().id;
        timer_heap_.pop();
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;
        auto fn = std::move(it->second);
        timers_.erase(it);
        fn();
    }
}

void EventLoop::run_posted() {
    std::vector<std::function<void()>> batch;
    {
        MutexLock lock(posted_mutex_);
        batch.swap(posted_);
        if (stop_requested_) {
            stop_requested_ = false;
            stopping_ = true;
        }
    }
    for (auto& fn : batch) fn();
}

}  // namespace soawatch
