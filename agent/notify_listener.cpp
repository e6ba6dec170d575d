#include "agent/notify_listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "agent/common/log.hpp"
#include "probes/notify_request.hpp"
#include "probes/socket_address.hpp"

namespace soawatch {

namespace {

// The socket and address to bind for `listen`. ":PORT" (no address) is every local address of
// both families: one IPv6 socket with IPV6_V6ONLY off takes IPv4 too (as v4-mapped addresses),
// or an IPv4 socket where the host has no IPv6.
UniqueFd open_socket(const Endpoint& listen, SocketAddress& addr, int type = SOCK_DGRAM) {
    auto open = [type](int family) {
        return UniqueFd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    };
    if (listen.address.empty()) {
        UniqueFd fd = open(AF_INET6);
        const int off = 0;
        if (fd && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0) {
            addr = any_address(AF_INET6, listen.port);
            return fd;
        }
        addr = any_address(AF_INET, listen.port);
        return open(AF_INET);
    }
    const auto parsed = socket_address(listen.address, listen.port);
    if (!parsed) throw std::runtime_error("notify_listen: bad address " + listen.address);
    addr = *parsed;
    return open(addr.family());
}

}  // namespace

// The TCP socket on `port` (the UDP socket's), listening; errno set and empty when it cannot be.
UniqueFd listen_tcp(const Endpoint& listen, uint16_t port) {
    SocketAddress addr;
    UniqueFd fd = open_socket(Endpoint{listen.address, port}, addr, SOCK_STREAM);
    const int on = 1;
    if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        ::bind(fd.get(), addr.get(), addr.length) != 0 || ::listen(fd.get(), 16) != 0)
        return UniqueFd();
    return fd;
}

NotifyListener::NotifyListener(EventLoop& loop, const Endpoint& listen, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {
    UniqueFd tcp;
    // Port 0 (tests): the UDP socket picks the port, TCP takes the same one; when another TCP
    // socket holds it, both try again.
    for (int attempt = 0; attempt < 8 && !tcp; ++attempt) {
        SocketAddress addr;
        fd_ = open_socket(listen, addr);
        if (!fd_)
            throw std::runtime_error(std::string("notify_listen: socket: ") + std::strerror(errno));
        if (::bind(fd_.get(), addr.get(), addr.length) != 0)
            throw std::runtime_error("notify_listen: cannot bind " + listen.to_string() + ": " +
                                     std::strerror(errno));
        sockaddr_storage bound{};
        socklen_t bound_len = sizeof bound;
        getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len);
        port_ =
            ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        tcp = listen_tcp(listen, port_);
        if (!tcp && (listen.port != 0 || errno != EADDRINUSE))
            throw std::runtime_error("notify_listen: cannot bind " + listen.to_string() +
                                     " (TCP): " + std::strerror(errno));
    }
    if (!tcp) throw std::runtime_error("notify_listen: no port free for both UDP and TCP");
    loop_.watch_fd(fd_.get(), true, false, [this](bool, bool) { on_readable(); });
    tcp_ = std::make_unique<NotifyTcpServer>(
        loop_, std::move(tcp), [this](std::span<const uint8_t> m) { return respond(m); });
}

NotifyListener::~NotifyListener() {
    loop_.unwatch_fd(fd_.get());
    for (const auto& [zone, timer] : deferred_) loop_.cancel_timer(timer);
}

bool NotifyListener::defer(const std::string& zone, Instant when) {
    if (deferred_.contains(zone)) return false;
    const auto due = last_handled_[zone] + kMinNotifyGap;
    deferred_[zone] = loop_.add_timer(due, [this, zone, when] {
        deferred_.erase(zone);
        // Timed from the repeat's arrival: the propagation it may announce started then.
        if (handler_(zone, when)) last_handled_[zone] = MonoClock::now();
    });
    return true;
}

bool NotifyListener::repeated(const std::string& zone, MonoClock::time_point now) {
    if (last_handled_.size() > 100000) {  // zones no longer watched stay until here
        std::erase_if(last_handled_,
                      [now](const auto& e) { return now - e.second >= kMinNotifyGap; });
    }
    const auto it = last_handled_.find(zone);
    return it != last_handled_.end() && now - it->second < kMinNotifyGap;
}

void NotifyListener::on_readable() {
    // Drain a bounded batch per wake-up so a flood cannot starve the probes.
    for (int i = 0; i < 64; ++i) {
        uint8_t buf[4096];  // a NOTIFY is small; a larger datagram is cut and then fails to parse
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                               &from_len);
        if (n < 0) return;  // EAGAIN: drained
        const auto reply = respond(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        if (!reply.empty())
            ::sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     from_len);
    }
}

std::vector<uint8_t> NotifyListener::respond(std::span<const uint8_t> message) {
    const NotifyRequest request = decode_notify(message);
    if (request.zone.empty()) {
        ++ignored_;
        log::debug("NOTIFY ignored", {{"reason", request.ignored}});
        return {};
    }
    const auto now = MonoClock::now();
    bool watched = true;
    if (repeated(request.zone, now)) {
        // Answered; handed on when the second is over if it is the zone's first repeat
        // (accepted then), else ignored.
        if (defer(request.zone, Instant::now()))
            ++accepted_;
        else
            ++ignored_;
        log::debug("NOTIFY repeated within a second", {{"zone", request.zone}});
    } else if ((watched = handler_(request.zone, Instant::now()))) {
        ++accepted_;
        last_handled_[request.zone] = now;
        log::info("NOTIFY received", {{"zone", request.zone}});
    } else {
        ++ignored_;
        log::debug("NOTIFY for a zone not watched", {{"zone", request.zone}});
    }
    // RFC 1996 4.7: answer so the primary stops retrying; NOTAUTH for zones we do not watch.
    return answer_notify(request, watched);
}

}  // namespace soawatch
