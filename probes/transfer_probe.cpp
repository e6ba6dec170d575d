#include "probes/transfer_probe.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/socket_address.hpp"
#include "probes/transfer_answer.hpp"
#include "probes/unique_fd.hpp"

namespace soawatch {

namespace {

// Requests to one address and port share a queue.
std::string address_key(const ProbeTarget& target) {
    return target.address + " " + std::to_string(target.port);
}

}  // namespace

struct TransferProber::Probe {
    TransferObservation obs;
    UniqueFd fd;
    std::vector<uint8_t> request;  // with its two-octet length (RFC 1035 4.2.2)
    std::size_t sent = 0;
    std::vector<uint8_t> answer;  // the first message, with its length, as it arrives
    bool connected = false;
    uint16_t query_id = 0;
    std::optional<tsig::Key> key;
    uint32_t serial = 0;  // signed_ixfr: signed when it starts (its time must be now)
    std::vector<uint8_t> request_mac;
    EventLoop::TimerId timer = 0;
    MonoClock::time_point started;
    Callback done;
};

TransferProber::TransferProber(EventLoop& loop) : loop_(loop) {}

TransferProber::~TransferProber() {
    for (auto& [id, probe] : probes_) {
        loop_.unwatch_fd(probe->fd.get());
        loop_.cancel_timer(probe->timer);
    }
}

void TransferProber::axfr(const std::string& zone, const ProbeTarget& target,
                          std::chrono::milliseconds timeout, Callback done) {
    auto probe = std::make_unique<Probe>();
    probe->obs.zone = dns::canonical_name(zone);
    probe->obs.target = target;
    probe->obs.kind = TransferKind::axfr;
    probe->query_id = random_query_id();
    auto message = build_axfr_request(probe->query_id, probe->obs.zone);
    dns::append_tcp_message(probe->request, message);
    probe->done = std::move(done);
    if (message.empty()) probe->request.clear();
    enqueue(std::move(probe), timeout);
}

void TransferProber::signed_ixfr(const std::string& zone, uint32_t serial, const tsig::Key& key,
                                 const ProbeTarget& target, std::chrono::milliseconds timeout,
                                 Callback done) {
    auto probe = std::make_unique<Probe>();
    probe->obs.zone = dns::canonical_name(zone);
    probe->obs.target = target;
    probe->obs.kind = TransferKind::signed_ixfr;
    probe->query_id = random_query_id();
    probe->key = key;
    probe->serial = serial;
    probe->done = std::move(done);
    enqueue(std::move(probe), timeout);
}

void TransferProber::enqueue(std::unique_ptr<Probe> probe, std::chrono::milliseconds timeout) {
    const std::string key = address_key(probe->obs.target);
    AddressQueue& queue = addresses_[key];
    queue.waiting.push_back({std::move(probe), timeout});
    ++waiting_total_;
    mark_ready(key, queue);
    pump();
}

void TransferProber::mark_ready(const std::string& key, AddressQueue& queue) {
    if (queue.ready || queue.waiting.empty() || queue.inflight >= kMaxPerAddress) return;
    queue.ready = true;
    ready_.push_back(key);
}

// Starts waiting requests while there is room, one address after the other. Re-entered from
// finish() (a request that fails at once): the outer call goes on.
void TransferProber::pump() {
    if (pumping_) return;
    pumping_ = true;
    while (probes_.size() < kMaxInflight && !ready_.empty()) {
        const std::string key = std::move(ready_.front());
        ready_.pop_front();
        auto it = addresses_.find(key);
        if (it == addresses_.end()) continue;
        it->second.ready = false;
        if (it->second.waiting.empty() || it->second.inflight >= kMaxPerAddress) continue;
        Waiting next = std::move(it->second.waiting.front());
        it->second.waiting.pop_front();
        --waiting_total_;
        ++it->second.inflight;
        start(std::move(next.probe), next.timeout);
        it = addresses_.find(key);  // start() may have finished it, and changed the map
        if (it != addresses_.end()) mark_ready(key, it->second);
    }
    pumping_ = false;
}

void TransferProber::start(std::unique_ptr<Probe> probe, std::chrono::milliseconds timeout) {
    const uint64_t id = next_id_++;
    probe->started = MonoClock::now();
    if (probe->key) {
        // Signed now, not when queued: the server checks the time against its fudge.
        const auto message = build_ixfr_request(probe->query_id, probe->obs.zone, probe->serial);
        auto signed_message =
            message.empty() ? tsig::SignedMessage{}
                            : tsig::sign_request(message, *probe->key, unix_seconds(Clock::now()));
        if (!signed_message.wire.empty()) {
            probe->request.clear();
            dns::append_tcp_message(probe->request, signed_message.wire);
            probe->request_mac = std::move(signed_message.mac);
        }
    }
    Probe& p = *probe;
    probes_.emplace(id, std::move(probe));
    if (p.request.empty()) return finish(id, TransferResult::malformed, "invalid zone name or key");

    const auto address = socket_address(p.obs.target.address, p.obs.target.port);
    if (!address) return finish(id, TransferResult::network_error, "not an IP address");
    p.fd.reset(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!p.fd) return finish(id, TransferResult::network_error, std::strerror(errno));
    ++probes_sent_;
    if (::connect(p.fd.get(), address->get(), address->length) != 0 && errno != EINPROGRESS) {
        const int error = errno;
        return finish(id,
                      error == ECONNREFUSED ? TransferResult::connection_refused
                                            : TransferResult::network_error,
                      std::strerror(error));
    }
    p.timer = loop_.add_timer(timeout, [this, id, timeout] {
        auto it = probes_.find(id);
        if (it == probes_.end()) return;
        it->second->timer = 0;
        finish(id, TransferResult::timeout,
               std::string(it->second->connected ? "no answer" : "no connection") + " within " +
                   std::to_string(timeout.count()) + " ms");
    });
    loop_.watch_fd(p.fd.get(), false, true,
                   [this, id](bool readable, bool writable) { on_ready(id, readable, writable); });
}

void TransferProber::on_ready(uint64_t id, bool readable, bool writable) {
    auto it = probes_.find(id);
    if (it == probes_.end()) return;
    Probe& p = *it->second;
    const int fd = p.fd.get();
    if (!p.connected) {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error != 0) {
            return finish(id,
                          error == ECONNREFUSED ? TransferResult::connection_refused
                                                : TransferResult::network_error,
                          std::strerror(error));
        }
        p.connected = true;
        writable = true;
    }
    if (writable && p.sent < p.request.size()) {
        while (p.sent < p.request.size()) {
            const ssize_t n =
                ::send(fd, p.request.data() + p.sent, p.request.size() - p.sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            if (n < 0) {
                // A server that closes on seeing the request refuses it (RFC 5936 4.2 lets a
                // server close at any time).
                if (errno == EPIPE || errno == ECONNRESET)
                    return finish(id, TransferResult::refused, "the server closed the connection");
                return finish(id, TransferResult::network_error, std::strerror(errno));
            }
            p.sent += static_cast<std::size_t>(n);
        }
        loop_.watch_fd(fd, true, p.sent < p.request.size(),
                       [this, id](bool r, bool w) { on_ready(id, r, w); });
    }
    if (!readable) return;
    std::array<uint8_t, 16384> buffer{};
    while (true) {
        // Only the first message: its length first, then as many octets as it says.
        std::size_t want = 2;
        if (p.answer.size() >= 2) want = 2 + ((std::size_t{p.answer[0]} << 8) | p.answer[1]);
        if (p.answer.size() >= want && p.answer.size() >= 2 && want > 2)
            return finish_with_answer(id);
        if (want == 2 && p.answer.size() == 2)
            return finish(id, TransferResult::malformed, "a message of length 0");
        const std::size_t room = std::min(buffer.size(), want - p.answer.size());
        const ssize_t n = ::recv(fd, buffer.data(), room, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n < 0 && errno != ECONNRESET)
            return finish(id, TransferResult::network_error, std::strerror(errno));
        if (n <= 0) {
            if (p.answer.empty())
                return finish(id, TransferResult::refused,
                              n == 0 ? "the server closed the connection"
                                     : "the server reset the connection");
            return finish(id, TransferResult::malformed,
                          "the connection closed in the middle of the first message");
        }
        p.answer.insert(p.answer.end(), buffer.begin(), buffer.begin() + n);
    }
}

void TransferProber::finish_with_answer(uint64_t id) {
    auto it = probes_.find(id);
    Probe& p = *it->second;
    const std::span<const uint8_t> message(p.answer.data() + 2, p.answer.size() - 2);
    if (p.key) {
        classify_signed_ixfr_answer(message, p.obs.zone, p.query_id, *p.key, p.request_mac,
                                    unix_seconds(Clock::now()), p.obs);
    } else {
        classify_axfr_answer(message, p.obs.zone, p.query_id, p.obs);
    }
    finish(id, p.obs.result, p.obs.detail);
}

void TransferProber::finish(uint64_t id, TransferResult result, std::string detail) {
    auto it = probes_.find(id);
    if (it == probes_.end()) return;
    std::unique_ptr<Probe> probe = std::move(it->second);
    probes_.erase(it);
    if (probe->fd) loop_.unwatch_fd(probe->fd.get());
    if (probe->timer) loop_.cancel_timer(probe->timer);
    probe->obs.result = result;
    probe->obs.detail = std::move(detail);
    probe->obs.rtt = MonoClock::now() - probe->started;
    probe->obs.at = Clock::now();
    auto done = std::move(probe->done);
    TransferObservation obs = std::move(probe->obs);
    probe.reset();  // the socket closes before the callback runs
    const std::string key = address_key(obs.target);
    if (auto queue = addresses_.find(key); queue != addresses_.end()) {
        --queue->second.inflight;
        mark_ready(key, queue->second);
        // Nothing left for the address: forgotten (discovery changes addresses over time). Not
        // while pump() holds an iterator into the map.
        if (!pumping_ && queue->second.inflight == 0 && !queue->second.ready)
            addresses_.erase(queue);
    }
    done(std::move(obs));
    pump();
}

}  // namespace soawatch
