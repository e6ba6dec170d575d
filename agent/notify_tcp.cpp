#include "agent/notify_tcp.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "probes/dns_wire.hpp"

namespace soawatch {

struct NotifyTcpServer::Connection {
    UniqueFd fd;
    std::vector<uint8_t> in;   // received, not yet a whole message
    std::vector<uint8_t> out;  // answers not yet sent
    EventLoop::TimerId timer = 0;
};

NotifyTcpServer::NotifyTcpServer(EventLoop& loop, UniqueFd listening, Responder responder)
    : loop_(loop), listening_(std::move(listening)), responder_(std::move(responder)) {
    loop_.watch_fd(listening_.get(), true, false, [this](bool, bool) { on_accept(); });
}

NotifyTcpServer::~NotifyTcpServer() {
    loop_.unwatch_fd(listening_.get());
    for (auto& [id, c] : connections_) {
        loop_.unwatch_fd(c->fd.get());
        loop_.cancel_timer(c->timer);
    }
}

void NotifyTcpServer::on_accept() {
    for (int i = 0; i < 16; ++i) {  // a bounded batch per wake-up
        UniqueFd fd(::accept4(listening_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) return;  // EAGAIN: none waiting (or an error the next wake-up sees again)
        if (connections_.size() >= kMaxConnections) continue;  // closed at once
        const uint64_t id = next_id_++;
        auto c = std::make_unique<Connection>();
        c->fd = std::move(fd);
        c->timer = loop_.add_timer(kLifetime, [this, id] {
            if (auto it = connections_.find(id); it != connections_.end()) {
                it->second->timer = 0;
                close(id);
            }
        });
        loop_.watch_fd(c->fd.get(), true, false,
                       [this, id](bool r, bool w) { on_ready(id, r, w); });
        connections_.emplace(id, std::move(c));
    }
}

void NotifyTcpServer::on_ready(uint64_t id, bool readable, bool writable) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    if (readable) {
        std::array<uint8_t, 4096> chunk{};
        while (true) {
            const ssize_t n = ::recv(c.fd.get(), chunk.data(), chunk.size(), 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            if (n <= 0) return close(id);  // closed by the peer, or an error
            c.in.insert(c.in.end(), chunk.begin(), chunk.begin() + n);
            std::size_t pos = 0;
            while (c.in.size() - pos >= 2) {
                const std::size_t length = (std::size_t{c.in[pos]} << 8) | c.in[pos + 1];
                if (length == 0 || length > kMaxMessage) return close(id);
                if (c.in.size() - pos - 2 < length) break;
                auto answer = responder_(std::span<const uint8_t>(c.in.data() + pos + 2, length));
                pos += 2 + length;
                if (answer.empty()) return close(id);  // not a NOTIFY: no answer (no reflector)
                dns::append_tcp_message(c.out, answer);
            }
            c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(pos));
            if (c.out.size() > 4 * kMaxMessage) return close(id);  // a peer that never reads
        }
        writable = true;
    }
    if (writable && !c.out.empty()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return close(id);
        if (n > 0) c.out.erase(c.out.begin(), c.out.begin() + n);
    }
    loop_.watch_fd(c.fd.get(), true, !c.out.empty(),
                   [this, id](bool r, bool w) { on_ready(id, r, w); });
}

void NotifyTcpServer::close(uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    loop_.unwatch_fd(it->second->fd.get());
    if (it->second->timer) loop_.cancel_timer(it->second->timer);
    connections_.erase(it);
}

}  // namespace soawatch
