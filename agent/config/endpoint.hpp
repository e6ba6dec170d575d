// An address and port written by a user: "192.0.2.1", "192.0.2.1:5300", "2001:db8::1",
// "[2001:db8::1]:5300", ":9353" (any address, for listen flags).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

struct Endpoint {
    std::string address;  // textual IP, normalised (inet_ntop); empty means "any" (listen only)
    uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
    std::string to_string() const;  // "192.0.2.1:53", "[2001:db8::1]:53"
};

// Parses IP[:PORT] with `default_port` when no port is given. A bare IPv6 address needs no
// brackets; with a port it does. Host names are rejected (these are addresses to query or bind).
// Returns nullopt and sets *error to a one-line reason on failure.
// min_port 0 accepts port 0 (a listener that lets the kernel pick).
std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port,
                                       std::string* error, bool allow_any_address = false,
                                       uint16_t min_port = 1);

// True when text is a literal IPv4 or IPv6 address.
bool is_ip_address(std::string_view text);
bool is_ipv6_address(std::string_view text);

}  // namespace soawatch
