#include "exporters/http/parked_connection.hpp"
#include "agent/common/thread_annotations.hpp"

#include <algorithm>

namespace soawatch {

bool ParkedConnection::park() {
    MutexLock lock(mutex_);
    if (cancelled_) return false;
    if (!parked_) {
        MHD_suspend_connection(connection_);
        parked_ = true;
    }
    return true;
}

void ParkedConnection::unpark() {
    MutexLock lock(mutex_);
    if (!parked_) return;
    parked_ = false;
    MHD_resume_connection(connection_);
}

void ParkedConnection::cancel() {
    {
        MutexLock lock(mutex_);
        cancelled_ = true;
        if (parked_) {
            parked_ = false;
            MHD_resume_connection(connection_);
        }
    }
    on_cancel();
}

bool ParkedConnection::cancelled() const {
    MutexLock lock(mutex_);
    return cancelled_;
}

void ParkedConnections::add(const std::shared_ptr<ParkedConnection>& c) {
    {
        MutexLock lock(mutex_);
        if (!closed_) {
            std::erase_if(list_, [](const auto& weak) { return weak.expired(); });
            list_.push_back(c);
            return;
        }
    }
    c->cancel();
}

void ParkedConnections::cancel_all() {
    std::vector<std::shared_ptr<ParkedConnection>> live;
    {
        MutexLock lock(mutex_);
        closed_ = true;
        for (const auto& weak : list_) {
            if (auto c = weak.lock()) live.push_back(std::move(c));
        }
        list_.clear();
    }
    for (const auto& c : live) c->cancel();
}

}  // namespace soawatch
