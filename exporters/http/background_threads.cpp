#include "exporters/http/background_threads.hpp"
#include "agent/common/thread_annotations.hpp"

#include <atomic>
#include <utility>

namespace soawatch {

BackgroundThreads::~BackgroundThreads() {
    MutexLock lock(mutex_);
    for (Entry& e : threads_) {
        if (e.thread.joinable()) e.thread.join();
    }
}

void BackgroundThreads::join_finished() {
    for (auto it = threads_.begin(); it != threads_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = threads_.erase(it);
        } else {
            ++it;
        }
    }
}

void BackgroundThreads::start(std::function<void()> task) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    MutexLock lock(mutex_);
    join_finished();
    threads_.push_back(Entry{std::thread([task = std::move(task), done] {
                                 task();
                                 done->store(true);
                             }),
                             done});
}

bool BackgroundThreads::join_all(std::chrono::milliseconds grace) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
        {
            MutexLock lock(mutex_);
            join_finished();
            if (threads_.empty()) return true;
            if (std::chrono::steady_clock::now() >= deadline) {
                for (Entry& e : threads_) e.thread.detach();
                threads_.clear();
                return false;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace soawatch
