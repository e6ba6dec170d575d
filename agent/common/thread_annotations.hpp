#pragma once
// Clang's thread-safety analysis (-Wthread-safety), so that "guarded by" is checked by the
// compiler instead of written in a comment: a member declared GUARDED_BY(mutex_) may only be
// touched while mutex_ is held, a function declared REQUIRES(mutex_) only be called with it
// held, one declared EXCLUDES(mutex_) only without it. The lint test (tests/check_tidy.sh) runs
// the analysis through clang-tidy; GCC builds see empty macros.
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html
//
// libstdc++'s std::mutex carries no capability attribute, so the analysis cannot see it:
// guarded state uses soawatch::Mutex and soawatch::MutexLock below instead.

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define SOAWATCH_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SOAWATCH_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) SOAWATCH_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY SOAWATCH_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) SOAWATCH_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) SOAWATCH_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) SOAWATCH_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) SOAWATCH_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) SOAWATCH_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) SOAWATCH_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) SOAWATCH_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS SOAWATCH_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace soawatch {

// A std::mutex the analysis knows as a capability. Same cost and semantics as std::mutex.
class CAPABILITY("mutex") Mutex {
  public:
    Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    void lock() ACQUIRE() { mutex_.lock(); }
    void unlock() RELEASE() { mutex_.unlock(); }

  private:
    std::mutex mutex_;
};

// std::lock_guard for Mutex: holds it for the scope, and tells the analysis so.
class SCOPED_CAPABILITY MutexLock {
  public:
    explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
    ~MutexLock() RELEASE() { mutex_.unlock(); }

    // Waits for `cv`, the mutex released meanwhile and held again on return (also on a spurious
    // wake-up: wait in a loop on the condition, which the analysis then sees read under the lock).
    void wait(std::condition_variable_any& cv) { cv.wait(mutex_); }
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

  private:
    Mutex& mutex_;
};

}  // namespace soawatch
