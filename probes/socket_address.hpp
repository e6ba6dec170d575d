// An IP literal and a port as a socket address (sockaddr_in or sockaddr_in6), for bind() and
// connect(). The one text-to-sockaddr conversion of the project: the NOTIFY listener, the HTTP
// listener and the transfer probes use it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace soawatch {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// `ip` is an IPv4 or IPv6 literal without brackets ("192.0.2.1", "::1"); nullopt otherwise.
std::optional<SocketAddress> socket_address(const std::string& ip, uint16_t port);

// The wildcard address of a family (0.0.0.0 or ::) and a port.
SocketAddress any_address(int family, uint16_t port);

}  // namespace soawatch
