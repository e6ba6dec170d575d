// Finished objects of the hot path kept for the next use: an allocation per query or probe saved
// (docs/PERFORMANCE.md, allocations per SOA probe). At most `cap` are kept, so a burst does not
// keep its peak for good.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace soawatch {

template <typename T>
class SparePool {
  public:
    explicit SparePool(std::size_t cap) : cap_(cap) {}

    // A kept object (as the last `keep` left it), or a new one.
    std::unique_ptr<T> take() {
        if (spare_.empty()) return std::make_unique<T>();
        auto item = std::move(spare_.back());
        spare_.pop_back();
        return item;
    }

    // Keeps `item` for a later take(), `reset` applied to it first; destroys it when the pool is
    // full.
    template <typename Reset>
    void keep(std::unique_ptr<T> item, Reset&& reset) {
        if (spare_.size() >= cap_) return;
        std::forward<Reset>(reset)(*item);
        spare_.push_back(std::move(item));
    }

  private:
    std::size_t cap_;
    std::vector<std::unique_ptr<T>> spare_;
};

}  // namespace soawatch
