#include "agent/notify_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "agent/log.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch {

NotifyListener::NotifyListener(EventLoop& loop, const Endpoint& listen, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = AF_INET;
    if (listen.address.find(':') != std::string::npos) {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(listen.port);
        if (inet_pton(AF_INET6, listen.address.c_str(), &a6->sin6_addr) != 1)
            throw std::runtime_error("notify_listen: bad address " + listen.address);
        family = AF_INET6;
        len = sizeof(sockaddr_in6);
    } else {
        auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
        a4->sin_family = AF_INET;
        a4->sin_port = htons(listen.port);
        if (listen.address.empty()) {
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
        } else if (inet_pton(AF_INET, listen.address.c_str(), &a4->sin_addr) != 1) {
            throw std::runtime_error("notify_listen: bad address " + listen.address);
        }
        len = sizeof(sockaddr_in);
    }
    fd_.reset(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_)
        throw std::runtime_error(std::string("notify_listen: socket: ") + std::strerror(errno));
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0)
        throw std::runtime_error("notify_listen: cannot bind " + listen.to_string() + ": " +
                                 std::strerror(errno));
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    loop_.watch_fd(fd_.get(), true, false, [this](bool, bool) { on_readable(); });
}

NotifyListener::~NotifyListener() {
    loop_.unwatch_fd(fd_.get());
}

void NotifyListener::on_readable() {
    // Drain a bounded batch per wake-up so a flood cannot starve the probes.
    for (int i = 0; i < 64; ++i) {
        uint8_t buf[1500];
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                               &from_len);
        if (n < 0) return;  // EAGAIN: drained
        auto parsed = dns::parse_message(std::span<const uint8_t>(buf, static_cast<size_t>(n)), 64);
        const auto& msg = parsed.message;
        if (!parsed.ok() || msg.header.qr || msg.header.opcode != dns::opcode::NOTIFY ||
            msg.questions.size() != 1 || msg.questions[0].type != dns::rrtype::SOA) {
            ++ignored_;
            log::debug("NOTIFY ignored: malformed or not a NOTIFY for an SOA");
            continue;
        }
        const std::string zone = dns::canonical_name(msg.questions[0].name);
        const bool watched = handler_(zone, Clock::now());
        if (watched) {
            ++accepted_;
            log::info("NOTIFY received", {{"zone", zone}});
        } else {
            ++ignored_;
            log::debug("NOTIFY for a zone not watched", {{"zone", zone}});
        }
        // RFC 1996 4.7: answer so the primary stops retrying; NOTAUTH for zones we do not watch.
        auto reply =
            dns::build_notify_response(msg, watched ? dns::rcode::NOERROR : dns::rcode::NOTAUTH);
        if (!reply.empty())
            ::sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     from_len);
    }
}

}  // namespace soawatch
