#include "probes/zone_transfer_client.hpp"

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

struct ZoneTransferClient::Exchange {
    UniqueFd fd;
    std::vector<uint8_t> request;  // with its length
    std::size_t sent = 0;
    std::vector<uint8_t> buffer;  // received, not yet a whole message
    bool connected = false;
    EventLoop::TimerId timer = 0;
    // Takes one whole message; returns true when the exchange is over (then `finish`es it).
    std::function<bool(std::span<const uint8_t>)> on_message;
    // Ends the exchange: the error, empty when the message handler said it was done.
    std::function<void(std::string)> on_end;
};

ZoneTransferClient::ZoneTransferClient(EventLoop& loop) : loop_(loop) {}

ZoneTransferClient::~ZoneTransferClient() {
    for (auto& [id, exchange] : exchanges_) {
        if (exchange->fd) loop_.unwatch_fd(exchange->fd.get());
        loop_.cancel_timer(exchange->timer);
    }
}

void ZoneTransferClient::query_soa(const std::string& zone, const TcpTarget& target,
                                   std::chrono::milliseconds timeout,
                                   std::function<void(SoaQueryResult)> done) {
    auto exchange = std::make_unique<Exchange>();
    const uint16_t id = random_query_id();
    const std::string name = dns::canonical_name(zone);
    const auto query = dns::build_query(id, name, dns::rrtype::SOA, false);
    if (!query.empty()) dns::append_tcp_message(exchange->request, query);
    auto result = std::make_shared<SoaQueryResult>();
    exchange->on_message = [id, name, result](std::span<const uint8_t> wire) {
        const auto parsed = dns::parse_message(wire, 256);
        const auto& m = parsed.message;
        if (!parsed.ok()) {
            result->error =
                "unparsable answer: " + std::string(dns::parse_error_name(parsed.error));
        } else if (m.header.id != id || !m.header.qr) {
            result->error = "an answer with another ID";
        } else if (m.header.rcode != dns::rcode::NOERROR) {
            result->error = "the server answers " + dns::rcode_name(m.header.rcode);
            result->refused = m.header.rcode == dns::rcode::REFUSED;
        } else if (!m.header.aa) {
            result->error = "the answer is not authoritative";
        } else {
            for (const auto& rr : m.answers)
                if (rr.soa && dns::names_equal(rr.owner, name)) result->soa = rr.soa;
            if (!result->soa) result->error = "no SOA in the answer";
        }
        return true;
    };
    exchange->on_end = [result, done = std::move(done)](std::string error) {
        if (!error.empty()) result->error = std::move(error);
        done(std::move(*result));
    };
    start(std::move(exchange), target, timeout);
}

void ZoneTransferClient::transfer(const std::string& zone, const TcpTarget& target,
                                  std::optional<uint32_t> ixfr_serial,
                                  const std::optional<tsig::Key>& key,
                                  std::chrono::milliseconds timeout,
                                  std::function<void(ZoneTransferResult)> done) {
    auto exchange = std::make_unique<Exchange>();
    const uint16_t id = random_query_id();
    const std::string name = dns::canonical_name(zone);
    auto request =
        ixfr_serial ? build_ixfr_request(id, name, *ixfr_serial) : build_axfr_request(id, name);
    std::vector<uint8_t> request_mac;
    if (key && !request.empty()) {
        // Signed at once: there is no queue, so this is when it leaves.
        auto signed_message = tsig::sign_request(request, *key, unix_seconds(Clock::now()));
        request = std::move(signed_message.wire);
        request_mac = std::move(signed_message.mac);
    }
    if (!request.empty()) dns::append_tcp_message(exchange->request, request);
    auto reader = std::make_shared<std::unique_ptr<ZoneTransferReader>>(
        std::make_unique<ZoneTransferReader>(name, id, ixfr_serial, key, std::move(request_mac)));
    exchange->on_message = [reader](std::span<const uint8_t> wire) {
        return (*reader)->feed(wire, unix_seconds(Clock::now())) !=
               ZoneTransferReader::Status::more;
    };
    exchange->on_end = [reader, done = std::move(done)](std::string error) {
        ZoneTransferResult result;
        result.reader = std::move(*reader);
        if (error.empty() && result.reader->status() == ZoneTransferReader::Status::failed)
            error = result.reader->error();
        result.error = std::move(error);
        done(std::move(result));
    };
    start(std::move(exchange), target, timeout);
}

void ZoneTransferClient::start(std::unique_ptr<Exchange> exchange, const TcpTarget& target,
                               std::chrono::milliseconds timeout) {
    const uint64_t id = next_id_++;
    Exchange& e = *exchange;
    exchanges_.emplace(id, std::move(exchange));
    if (e.request.empty()) return finish(id, "invalid zone name or key");
    const auto address = socket_address(target.address, target.port);
    if (!address) return finish(id, "not an IP address: " + target.address);
    e.fd.reset(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!e.fd) return finish(id, std::strerror(errno));
    if (::connect(e.fd.get(), address->get(), address->length) != 0 && errno != EINPROGRESS)
        return finish(id, std::string("connect: ") + std::strerror(errno));
    e.timer = loop_.add_timer(timeout, [this, id, timeout] {
        auto it = exchanges_.find(id);
        if (it == exchanges_.end()) return;
        it->second->timer = 0;
        finish(id, std::string(it->second->connected ? "no complete answer" : "no connection") +
                       " within " + std::to_string(timeout.count()) + " ms");
    });
    loop_.watch_fd(e.fd.get(), false, true,
                   [this, id](bool readable, bool writable) { on_ready(id, readable, writable); });
}

void ZoneTransferClient::on_ready(uint64_t id, bool readable, bool writable) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) return;
    Exchange& e = *it->second;
    const int fd = e.fd.get();
    if (!e.connected) {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error != 0) return finish(id, std::string("connect: ") + std::strerror(error));
        e.connected = true;
        writable = true;
    }
    if (writable && e.sent < e.request.size()) {
        while (e.sent < e.request.size()) {
            const ssize_t n =
                ::send(fd, e.request.data() + e.sent, e.request.size() - e.sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            if (n < 0) return finish(id, std::string("send: ") + std::strerror(errno));
            e.sent += static_cast<std::size_t>(n);
        }
        loop_.watch_fd(fd, true, e.sent < e.request.size(),
                       [this, id](bool r, bool w) { on_ready(id, r, w); });
    }
    if (!readable) return;
    std::array<uint8_t, 65536> chunk{};
    while (true) {
        const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n < 0) return finish(id, std::string("recv: ") + std::strerror(errno));
        if (n == 0) {
            return finish(id, e.buffer.empty()
                                  ? "the server closed the connection"
                                  : "the connection closed in the middle of a message");
        }
        e.buffer.insert(e.buffer.end(), chunk.begin(), chunk.begin() + n);
        // Every whole message in the buffer, in order.
        std::size_t pos = 0;
        while (e.buffer.size() - pos >= 2) {
            const std::size_t length = (std::size_t{e.buffer[pos]} << 8) | e.buffer[pos + 1];
            if (length == 0) return finish(id, "a message of length 0");
            if (e.buffer.size() - pos - 2 < length) break;
            const std::span<const uint8_t> message(e.buffer.data() + pos + 2, length);
            pos += 2 + length;
            if (e.on_message(message)) return finish(id, "");
        }
        e.buffer.erase(e.buffer.begin(), e.buffer.begin() + static_cast<long>(pos));
    }
}

void ZoneTransferClient::finish(uint64_t id, std::string error) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) return;
    std::unique_ptr<Exchange> exchange = std::move(it->second);
    exchanges_.erase(it);
    if (exchange->fd) loop_.unwatch_fd(exchange->fd.get());
    if (exchange->timer) loop_.cancel_timer(exchange->timer);
    auto on_end = std::move(exchange->on_end);
    exchange.reset();  // the socket closes before the callback runs
    on_end(std::move(error));
}

}  // namespace soawatch
