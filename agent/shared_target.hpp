// A nameserver address as a status row keeps it: one shared copy per distinct target. 100,000
// zones on the same three servers hold three ProbeTargets (72 bytes each), not 300,000; a row
// pays a pointer (docs/PERFORMANCE.md, memory).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "probes/observation.hpp"

namespace soawatch {

// Reads like a const ProbeTarget: `->address`, or passed where a const ProbeTarget& is taken.
class SharedTarget {
  public:
    SharedTarget() = default;
    SharedTarget(ProbeTarget target)  // NOLINT(google-explicit-constructor): reads as a target
        : target_(std::make_shared<ProbeTarget>(std::move(target))) {}
    SharedTarget(std::string nameserver, std::string address, uint16_t port)
        : SharedTarget(ProbeTarget{std::move(nameserver), std::move(address), port}) {}
    explicit SharedTarget(std::shared_ptr<const ProbeTarget> shared) : target_(std::move(shared)) {}

    const ProbeTarget& get() const { return target_ ? *target_ : empty(); }
    operator const ProbeTarget&() const { return get(); }  // NOLINT(google-explicit-constructor)
    const ProbeTarget* operator->() const { return &get(); }
    const ProbeTarget& operator*() const { return get(); }
    const std::shared_ptr<const ProbeTarget>& shared() const { return target_; }
    // A private copy to change (copy on write), as SharedVector::edit.
    ProbeTarget& edit() {
        if (!target_ || target_.use_count() > 1) target_ = std::make_shared<ProbeTarget>(get());
        // Only this owner holds it now, and every target is made as a non-const ProbeTarget
        // (held through a pointer to const), so changing it is sound.
        return const_cast<ProbeTarget&>(*target_);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }

    friend bool operator==(const SharedTarget& a, const SharedTarget& b) {
        return a.target_ == b.target_ || a.get() == b.get();
    }
    friend bool operator==(const SharedTarget& a, const ProbeTarget& b) { return a.get() == b; }

  private:
    static const ProbeTarget& empty() {
        static const ProbeTarget none;
        return none;
    }
    std::shared_ptr<const ProbeTarget> target_;
};

// Hands out one shared copy per distinct target for as long as any row holds it (one pool per
// event loop thread: see SharedTargetPool::of_this_thread). A target nobody holds any more is
// dropped when the table has doubled.
class SharedTargetPool {
  public:
    SharedTarget intern(const ProbeTarget& target) {
        // Looked up by a view of the target: a key is only built (its strings copied) for a
        // target the pool does not have yet (two copies per row were most of a first round's
        // interning, callgrind).
        auto slot = targets_.find(KeyView{target.address, target.port, target.nameserver});
        if (slot != targets_.end()) {
            if (auto shared = slot->second.lock()) return SharedTarget(std::move(shared));
        } else {
            slot = targets_
                       .emplace(Key{target.address, target.port, target.nameserver},
                                std::weak_ptr<const ProbeTarget>{})
                       .first;
        }
        std::shared_ptr<const ProbeTarget> shared = std::make_shared<ProbeTarget>(target);
        slot->second = shared;
        if (targets_.size() >= sweep_at_) {
            std::erase_if(targets_, [](const auto& entry) { return entry.second.expired(); });
            sweep_at_ = std::max<std::size_t>(kMinSweep, 2 * targets_.size());
        }
        return SharedTarget(std::move(shared));
    }
    std::size_t size() const { return targets_.size(); }

    // The evaluator runs on each loop's own thread: a pool per thread needs no lock (with N
    // loops a target may be held N times, once per loop).
    static SharedTargetPool& of_this_thread() {
        thread_local SharedTargetPool pool;
        return pool;
    }

  private:
    static constexpr std::size_t kMinSweep = 64;
    using Key = std::tuple<std::string, uint16_t, std::string>;  // address, port, name
    using KeyView = std::tuple<std::string_view, uint16_t, std::string_view>;
    // Orders keys and views of keys alike (address, port, name), so a view finds its key.
    struct KeyLess {
        using is_transparent = void;
        static KeyView view(const Key& k) {
            return {std::get<0>(k), std::get<1>(k), std::get<2>(k)};
        }
        static const KeyView& view(const KeyView& k) { return k; }
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return view(a) < view(b);
        }
    };
    std::map<Key, std::weak_ptr<const ProbeTarget>, KeyLess> targets_;
    std::size_t sweep_at_ = kMinSweep;
};

}  // namespace soawatch
