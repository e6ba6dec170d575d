// Delivers alert notifications to the receivers, on its own thread with libcurl's multi
// interface, so that a slow, hanging or dead receiver never delays probing or other receivers:
// - each receiver has its own bounded queue (oldest dropped and counted when full) and at most
//   one request in flight, so its notifications arrive in order;
// - each attempt has the receiver's timeout; failures (network errors, timeouts, 5xx, 408, 429)
//   are retried with exponential backoff and jitter up to max_attempts, then dead-lettered
//   (counted and logged); other 4xx answers are dead-lettered at once (retrying cannot help);
// - shutdown() flushes what is queued within a deadline, then abandons the rest.
// Receiver URLs and header values are secrets: they never appear in logs or errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/alerting/alert_engine.hpp"
#include "agent/common/thread_annotations.hpp"
#include "agent/config/alert_config.hpp"
#include "exporters/alerts/curl_handles.hpp"

namespace soawatch {

struct ReceiverStats {
    std::string name;
    uint64_t success = 0;    // notifications delivered (2xx)
    uint64_t retry = 0;      // attempts that failed and were retried
    uint64_t failed = 0;     // notifications given up on: the dead letters
    uint64_t dropped = 0;    // notifications dropped unsent (queue full, receiver removed)
    std::size_t queued = 0;  // waiting now, the one in flight included
};

struct DispatcherOptions {
    std::string user_agent = "soawatch";
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{60000};
};

class AlertDispatcher {
  public:
    // Starts the delivery thread. Throws std::runtime_error when libcurl cannot be set up.
    explicit AlertDispatcher(const AlertingConfig& config, DispatcherOptions options = {});
    ~AlertDispatcher();  // shutdown(0) if not done yet
    AlertDispatcher(const AlertDispatcher&) = delete;
    AlertDispatcher& operator=(const AlertDispatcher&) = delete;

    // Any thread. New receivers, URLs, headers and limits. Queues of receivers that stay (same
    // name) are kept; those of removed receivers are dropped and counted.
    void configure(const AlertingConfig& config) EXCLUDES(mutex_);

    // Any thread; never blocks on the network. `n.receiver` indexes the receivers of the config
    // last passed to configure() (the engine's, configured at the same moment).
    void enqueue(AlertNotification n) EXCLUDES(mutex_);

    // Any thread. Stops taking notifications, delivers what is queued until `deadline` passes,
    // abandons the rest (counted as dropped) and joins the thread. Idempotent.
    void shutdown(std::chrono::milliseconds deadline) EXCLUDES(mutex_);

    // Any thread: per receiver, in configuration order.
    std::vector<ReceiverStats> stats() const EXCLUDES(mutex_);

  private:
    using Steady = std::chrono::steady_clock;
    struct Pending {
        AlertNotification notification;
        std::string body;  // formatted when first sent, kept for retries
        unsigned attempts = 0;
        Steady::time_point not_before{};
    };
    struct Receiver {
        ReceiverConfig config;
        std::deque<Pending> queue;  // front is in flight when `transfer` is set
        CurlEasy transfer;
        CurlHeaders headers;
        std::string response;  // first bytes of the answer, for the log
        Steady::time_point started{};
        ReceiverStats stats;
    };

    void run();
    void take_inbox();
    void apply_config(AlertingConfig config);
    void start_due(Steady::time_point now);
    void start(Receiver& receiver, Steady::time_point now);
    void finish(CURL* handle, CURLcode code);
    Steady::time_point next_due() const;
    std::string format(const Receiver& receiver, const AlertNotification& n) const;
    std::chrono::milliseconds backoff(unsigned attempts);
    Receiver* receiver_of(CURL* handle);
    void abandon_all();

    DispatcherOptions options_;
    CurlMulti multi_;
    std::thread thread_;

    // Shared with other threads.
    mutable Mutex mutex_;
    // Notifications for the thread to take, each with its receiver's name.
    std::vector<std::pair<std::string, AlertNotification>> inbox_ GUARDED_BY(mutex_);
    // The receiver names of the last configure(), in order.
    std::vector<std::string> index_names_ GUARDED_BY(mutex_);
    std::unique_ptr<AlertingConfig> pending_config_ GUARDED_BY(mutex_);  // taken by the thread
    std::vector<ReceiverStats> published_stats_ GUARDED_BY(mutex_);
    bool stopping_ GUARDED_BY(mutex_) = false;
    Steady::time_point stop_deadline_ GUARDED_BY(mutex_){};

    // Delivery thread only.
    AlertingConfig config_;
    std::vector<std::unique_ptr<Receiver>> receivers_;  // configuration order
    uint64_t rng_state_;
};

}  // namespace soawatch
