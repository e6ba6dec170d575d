// Not built: tests/check_tidy.sh runs clang-tidy on this file first and expects exactly the two
// findings marked below, so that a lint run whose thread-safety analysis is off (a flag lost, a
// macro that expands to nothing under Clang) fails instead of passing in silence.
#include "agent/common/thread_annotations.hpp"

namespace soawatch {

class Canary {
  public:
    void locked() EXCLUDES(mutex_) {
        MutexLock lock(mutex_);
        ++count_;
        bump();
    }
    void unlocked() { ++count_; }     // expected: writing count_ requires holding mutex_
    void unlocked_call() { bump(); }  // expected: calling bump requires holding mutex_

  private:
    void bump() REQUIRES(mutex_) { ++count_; }

    Mutex mutex_;
    int count_ GUARDED_BY(mutex_) = 0;
};

}  // namespace soawatch
