#include "exporters/alerts/alert_dispatcher.hpp"

#include <algorithm>
#include <random>

#include "agent/common/log.hpp"
#include "exporters/alerts/alert_payloads.hpp"

namespace soawatch {

namespace {

constexpr std::size_t kMaxResponseBytes = 512;  // kept for the log; the rest is discarded

size_t collect_response(char* data, size_t size, size_t count, void* user) {
    auto* out = static_cast<std::string*>(user);
    const std::size_t n = size * count;
    if (out->size() < kMaxResponseBytes)
        out->append(data, std::min(n, kMaxResponseBytes - out->size()));
    return n;  // accept everything: the answer's body does not matter
}

// A one-line rendering of the first bytes of an answer: printable ASCII only.
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 160)) {
        const auto byte = static_cast<unsigned char>(c);
        out += byte >= 0x20 && byte < 0x7f ? c : ' ';
    }
    return out;
}

}  // namespace

AlertDispatcher::AlertDispatcher(const AlertingConfig& config, DispatcherOptions options)
    : options_(std::move(options)) {
    curl_global_init_once();
    multi_.reset(curl_multi_init());
    if (!multi_) throw std::runtime_error("libcurl: cannot create a multi handle");
    rng_state_ = std::random_device{}() | (uint64_t{std::random_device{}()} << 32) | 1;
    configure(config);
    thread_ = std::thread([this] { run(); });
}

AlertDispatcher::~AlertDispatcher() {
    shutdown(std::chrono::milliseconds(0));
}

void AlertDispatcher::configure(const AlertingConfig& config) {
    {
        MutexLock lock(mutex_);
        pending_config_ = std::make_unique<AlertingConfig>(config);
        index_names_.clear();
        // Readers see every configured receiver at once, before the thread takes the config.
        std::vector<ReceiverStats> stats;
        for (const auto& r : config.receivers) {
            index_names_.push_back(r.name);
            auto old = std::find_if(published_stats_.begin(), published_stats_.end(),
                                    [&r](const ReceiverStats& s) { return s.name == r.name; });
            ReceiverStats s = old != published_stats_.end() ? *old : ReceiverStats{};
            s.name = r.name;
            stats.push_back(std::move(s));
        }
        published_stats_ = std::move(stats);
    }
    curl_multi_wakeup(multi_.get());
}

void AlertDispatcher::enqueue(AlertNotification n) {
    {
        MutexLock lock(mutex_);
        if (stopping_ || n.receiver >= index_names_.size()) return;
        inbox_.emplace_back(index_names_[n.receiver], std::move(n));
    }
    curl_multi_wakeup(multi_.get());
}

void AlertDispatcher::shutdown(std::chrono::milliseconds deadline) {
    {
        MutexLock lock(mutex_);
        if (!stopping_) {
            stopping_ = true;
            stop_deadline_ = Steady::now() + deadline;
        }
    }
    if (thread_.joinable()) {
        curl_multi_wakeup(multi_.get());
        thread_.join();
    }
}

std::vector<ReceiverStats> AlertDispatcher::stats() const {
    MutexLock lock(mutex_);
    return published_stats_;
}

void AlertDispatcher::run() {
    for (;;) {
        take_inbox();
        bool stopping = false;
        Steady::time_point deadline;
        {
            MutexLock lock(mutex_);
            stopping = stopping_;
            deadline = stop_deadline_;
        }
        const auto now = Steady::now();
        if (stopping) {
            const bool idle = std::all_of(receivers_.begin(), receivers_.end(),
                                          [](const auto& r) { return r->queue.empty(); });
            if (idle || now >= deadline) {
                abandon_all();
                return;
            }
        }
        start_due(now);
        int running = 0;
        curl_multi_perform(multi_.get(), &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
            if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
        }
        {
            std::vector<ReceiverStats> stats;
            for (const auto& r : receivers_) {
                ReceiverStats s = r->stats;
                s.queued = r->queue.size();
                stats.push_back(std::move(s));
            }
            MutexLock lock(mutex_);
            published_stats_ = std::move(stats);
        }
        // Sleep until a socket is ready, a retry is due, or another thread wakes us.
        auto wake = std::min(next_due(), Steady::now() + std::chrono::seconds(1));
        if (stopping) wake = std::min(wake, deadline);
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(wake - Steady::now());
        curl_multi_poll(multi_.get(), nullptr, 0,
                        static_cast<int>(std::max<int64_t>(wait.count(), 0)), nullptr);
    }
}

void AlertDispatcher::take_inbox() {
    std::unique_ptr<AlertingConfig> config;
    std::vector<std::pair<std::string, AlertNotification>> inbox;
    {
        MutexLock lock(mutex_);
        config = std::move(pending_config_);
        inbox.swap(inbox_);
    }
    if (config) apply_config(std::move(*config));
    for (auto& [name, n] : inbox) {
        auto it = std::find_if(receivers_.begin(), receivers_.end(),
                               [&name = name](const auto& r) { return r->config.name == name; });
        if (it == receivers_.end()) continue;  // removed by a reload since
        Receiver& r = **it;
        r.queue.push_back(Pending{std::move(n), {}, 0, {}});
        if (r.queue.size() > config_.queue_capacity) {
            // Drop the oldest that is not on the wire: newer news matters more.
            r.queue.erase(r.queue.begin() + (r.transfer ? 1 : 0));
            ++r.stats.dropped;
            log::warn("notification queue full, oldest notification dropped",
                      {{"receiver", r.config.name}});
        }
    }
}

void AlertDispatcher::apply_config(AlertingConfig config) {
    std::vector<std::unique_ptr<Receiver>> next;
    for (const auto& rc : config.receivers) {
        auto it = std::find_if(receivers_.begin(), receivers_.end(),
                               [&rc](const auto& r) { return r && r->config.name == rc.name; });
        std::unique_ptr<Receiver> r;
        if (it != receivers_.end()) {
            r = std::move(*it);
        } else {
            r = std::make_unique<Receiver>();
            r->stats.name = rc.name;
        }
        r->config = rc;
        next.push_back(std::move(r));
    }
    for (auto& old : receivers_) {
        if (!old) continue;
        if (old->transfer) curl_multi_remove_handle(multi_.get(), old->transfer.get());
        if (!old->queue.empty())
            log::warn(
                "receiver removed by reload; its queued notifications are dropped",
                {{"receiver", old->config.name}, {"dropped", std::to_string(old->queue.size())}});
    }
    receivers_ = std::move(next);
    config_ = std::move(config);
}

void AlertDispatcher::start_due(Steady::time_point now) {
    bool stopping = false;
    {
        MutexLock lock(mutex_);
        stopping = stopping_;
    }
    for (auto& r : receivers_) {
        if (r->transfer || r->queue.empty()) continue;
        // While stopping, retries do not wait for their backoff: the deadline is what is left.
        if (!stopping && r->queue.front().not_before > now) continue;
        start(*r, now);
    }
}

void AlertDispatcher::start(Receiver& r, Steady::time_point now) {
    Pending& p = r.queue.front();
    if (p.body.empty()) p.body = format(r, p.notification);
    ++p.attempts;
    CurlEasy easy(curl_easy_init());
    if (!easy) return;  // out of memory: try again next round
    r.headers = CurlHeaders();
    r.headers.append("Content-Type: application/json");
    r.headers.append("User-Agent: " + options_.user_agent);
    for (const auto& [name, value] : r.config.headers) r.headers.append(name + ": " + value);
    const std::string url = r.config.type == ReceiverType::alertmanager
                                ? r.config.url + "/api/v2/alerts"
                                : r.config.url;
    const long timeout_ms = static_cast<long>(r.config.timeout.count());
    r.response.clear();
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r.headers.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(p.body.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, p.body.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect_response);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.response);
    if (curl_multi_add_handle(multi_.get(), h) != CURLM_OK) return;
    r.transfer = std::move(easy);
    r.started = now;
}

AlertDispatcher::Receiver* AlertDispatcher::receiver_of(CURL* handle) {
    for (auto& r : receivers_)
        if (r->transfer.get() == handle) return r.get();
    return nullptr;
}

void AlertDispatcher::finish(CURL* handle, CURLcode code) {
    Receiver* found = receiver_of(handle);
    curl_multi_remove_handle(multi_.get(), handle);
    if (found == nullptr) return;  // its receiver was removed meanwhile
    Receiver& r = *found;
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    r.transfer.reset();
    if (r.queue.empty()) return;
    Pending& p = r.queue.front();
    const auto now = Steady::now();
    const double seconds = std::chrono::duration<double>(now - r.started).count();

    if (code == CURLE_OK && status >= 200 && status < 300) {
        ++r.stats.success;
        log::debug("notification delivered",
                   {{"receiver", r.config.name},
                    {"status", std::to_string(status)},
                    {"alerts", std::to_string(p.notification.alerts.size())},
                    {"seconds", std::to_string(seconds)}});
        r.queue.pop_front();
        return;
    }
    const std::string error =
        code != CURLE_OK ? curl_easy_strerror(code) : "HTTP " + std::to_string(status);
    // A 4xx other than 408 and 429 says the request itself is wrong: retrying cannot help.
    const bool permanent =
        code == CURLE_OK && status >= 400 && status < 500 && status != 408 && status != 429;
    if (permanent || p.attempts >= r.config.max_attempts) {
        ++r.stats.failed;
        log::error("notification failed, giving up (dead letter)",
                   {{"receiver", r.config.name},
                    {"error", error},
                    {"attempts", std::to_string(p.attempts)},
                    {"response", printable(r.response)}});
        r.queue.pop_front();
        return;
    }
    ++r.stats.retry;
    const auto delay = backoff(p.attempts);
    p.not_before = now + delay;
    log::warn("notification failed, will retry", {{"receiver", r.config.name},
                                                  {"error", error},
                                                  {"attempt", std::to_string(p.attempts)},
                                                  {"retry_in_ms", std::to_string(delay.count())}});
}

std::chrono::milliseconds AlertDispatcher::backoff(unsigned attempts) {
    // initial * 2^(attempts-1), capped, times a jitter in [0.5, 1.5) so that many agents that
    // lost the same receiver do not retry in step.
    double ms = static_cast<double>(options_.initial_backoff.count());
    const auto max_ms = static_cast<double>(options_.max_backoff.count());
    for (unsigned i = 1; i < attempts && ms < max_ms; ++i) ms *= 2;
    ms = std::min(ms, max_ms);
    rng_state_ ^= rng_state_ << 13;
    rng_state_ ^= rng_state_ >> 7;
    rng_state_ ^= rng_state_ << 17;
    const double jitter = 0.5 + static_cast<double>(rng_state_ >> 11) / 9007199254740992.0;
    return std::chrono::milliseconds(static_cast<int64_t>(ms * jitter));
}

AlertDispatcher::Steady::time_point AlertDispatcher::next_due() const {
    auto due = Steady::time_point::max();
    for (const auto& r : receivers_)
        if (!r->transfer && !r->queue.empty()) due = std::min(due, r->queue.front().not_before);
    return due;
}

std::string AlertDispatcher::format(const Receiver& r, const AlertNotification& n) const {
    PayloadContext ctx;
    ctx.receiver = r.config.name;
    ctx.external_url = n.external_url;
    ctx.now = Clock::now();
    ctx.resend_interval = config_.resend_interval;
    switch (r.config.type) {
        case ReceiverType::slack:
            return slack_payload(n, ctx);
        case ReceiverType::alertmanager:
            return alertmanager_payload(n, ctx);
        case ReceiverType::webhook:
            break;
    }
    return webhook_payload(n, ctx);
}

void AlertDispatcher::abandon_all() {
    std::vector<ReceiverStats> stats;
    for (auto& r : receivers_) {
        if (r->transfer) {
            curl_multi_remove_handle(multi_.get(), r->transfer.get());
            r->transfer.reset();
        }
        if (!r->queue.empty()) {
            r->stats.dropped += r->queue.size();
            log::warn("shutting down: undelivered notifications dropped",
                      {{"receiver", r->config.name}, {"dropped", std::to_string(r->queue.size())}});
            r->queue.clear();
        }
        stats.push_back(r->stats);
    }
    MutexLock lock(mutex_);
    published_stats_ = std::move(stats);
}

}  // namespace soawatch
