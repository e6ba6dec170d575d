// An optional moment kept in the moment's own bytes. std::optional<Clock::time_point> is 16 bytes
// and std::optional<Instant> 24 (the flag padded to the alignment); statuses hold several per
// nameserver address (300,000 addresses at 100,000 zones), so "none" is a time no clock reads
// instead: the earliest representable one. Reads and writes like the std::optional it replaces.
#pragma once

#include <optional>

#include "probes/observation.hpp"

namespace soawatch {

// The value that means "none" for each moment type: one no clock ever returns.
template <class T>
struct NoMoment;
template <>
struct NoMoment<Clock::time_point> {
    static constexpr Clock::time_point value() { return Clock::time_point::min(); }
    static constexpr bool is(const Clock::time_point& t) { return t == value(); }
};
template <>
struct NoMoment<MonoClock::time_point> {
    static constexpr MonoClock::time_point value() { return MonoClock::time_point::min(); }
    static constexpr bool is(const MonoClock::time_point& t) { return t == value(); }
};
template <>
struct NoMoment<Instant> {
    // Durations come from the monotonic reading, so that is the one that says "none".
    static constexpr Instant value() { return {Clock::time_point{}, MonoClock::time_point::min()}; }
    static constexpr bool is(const Instant& t) { return t.mono == MonoClock::time_point::min(); }
};

template <class T>
class OptionalMoment {
  public:
    constexpr OptionalMoment() = default;
    constexpr OptionalMoment(std::nullopt_t) {}
    constexpr OptionalMoment(const T& value) : value_(value) {}
    constexpr OptionalMoment(const std::optional<T>& value)
        : value_(value ? *value : NoMoment<T>::value()) {}

    constexpr bool has_value() const { return !NoMoment<T>::is(value_); }
    constexpr explicit operator bool() const { return has_value(); }
    constexpr const T& operator*() const { return value_; }
    constexpr const T* operator->() const { return &value_; }
    constexpr T value_or(const T& otherwise) const { return has_value() ? value_ : otherwise; }
    constexpr void reset() { value_ = NoMoment<T>::value(); }
    constexpr operator std::optional<T>() const {
        return has_value() ? std::optional<T>(value_) : std::nullopt;
    }

    friend constexpr bool operator==(const OptionalMoment& a, const OptionalMoment& b) {
        return a.has_value() == b.has_value() && (!a.has_value() || a.value_ == b.value_);
    }
    friend constexpr bool operator==(const OptionalMoment& a, const T& b) {
        return a.has_value() && a.value_ == b;
    }
    friend constexpr bool operator==(const OptionalMoment& a, std::nullopt_t) {
        return !a.has_value();
    }

  private:
    T value_ = NoMoment<T>::value();
};

using OptionalTime = OptionalMoment<Clock::time_point>;
using OptionalMonoTime = OptionalMoment<MonoClock::time_point>;
using OptionalInstant = OptionalMoment<Instant>;
static_assert(sizeof(OptionalTime) == sizeof(Clock::time_point));
static_assert(sizeof(OptionalInstant) == sizeof(Instant));

}  // namespace soawatch
