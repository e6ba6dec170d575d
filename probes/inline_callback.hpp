// InlineCallback: a move-only callable that keeps callables of up to `Capacity` bytes inside
// itself. std::function (libstdc++) stores only trivially copyable callables of 16 bytes
// inline, so a completion lambda that holds a std::shared_ptr (a zone check's round) costs an
// allocation per SOA probe; this keeps it in the probe's attempt. Larger callables still work,
// through one heap block, as with std::function.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace soawatch {

template <class Signature, std::size_t Capacity = 32>
class InlineCallback;

template <class R, class... Args, std::size_t Capacity>
class InlineCallback<R(Args...), Capacity> {
  public:
    InlineCallback() = default;
    InlineCallback(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): like std::function
    template <class F,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineCallback> &&
                                       !std::is_same_v<std::decay_t<F>, std::nullptr_t> &&
                                       std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
    InlineCallback(F&& f) {  // NOLINT(google-explicit-constructor): like std::function
        emplace(std::forward<F>(f));
    }
    InlineCallback(InlineCallback&& other) noexcept { take(other); }
    InlineCallback& operator=(InlineCallback&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    InlineCallback(const InlineCallback&) = delete;
    InlineCallback& operator=(const InlineCallback&) = delete;
    ~InlineCallback() { reset(); }

    explicit operator bool() const { return ops_ != nullptr; }
    R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }
    void reset() {
        if (!ops_) return;
        ops_->destroy(storage_);
        ops_ = nullptr;
    }

  private:
    struct Ops {
        R (*invoke)(void* self, Args&&... args);
        void (*move_to)(void* from, void* to);  // move-constructs at `to`, destroys `from`
        void (*destroy)(void* self);
    };

    template <class F>
    static constexpr bool kFitsInline =
        sizeof(F) <= Capacity &&
        alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;

    template <class F>
    static constexpr Ops kOps = {
        [](void* self, Args&&... args) -> R {
            return std::invoke(*static_cast<F*>(self), std::forward<Args>(args)...);
        },
        [](void* from, void* to) {
            ::new (to) F(std::move(*static_cast<F*>(from)));
            static_cast<F*>(from)->~F();
        },
        [](void* self) { static_cast<F*>(self)->~F(); },
    };

    // A callable too large to keep inline: it lives on the heap, its owner inline.
    template <class F>
    struct OnHeap {
        std::unique_ptr<F> callable;
        R operator()(Args... args) { return std::invoke(*callable, std::forward<Args>(args)...); }
    };

    template <class F>
    void emplace(F&& f) {
        using Callable = std::decay_t<F>;
        if constexpr (kFitsInline<Callable>) {
            ::new (static_cast<void*>(storage_)) Callable(std::forward<F>(f));
            ops_ = &kOps<Callable>;
        } else {
            emplace(OnHeap<Callable>{std::make_unique<Callable>(std::forward<F>(f))});
        }
    }

    void take(InlineCallback& other) noexcept {
        if (!other.ops_) return;
        other.ops_->move_to(other.storage_, storage_);
        ops_ = std::exchange(other.ops_, nullptr);
    }

    alignas(std::max_align_t) std::byte storage_[Capacity];
    const Ops* ops_ = nullptr;
};

}  // namespace soawatch
