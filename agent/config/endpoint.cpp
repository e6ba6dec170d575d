#include "agent/config/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>

#include "agent/common/quoted.hpp"

namespace soawatch {
namespace {

// inet_pton needs a NUL-terminated string; addresses are short, so copy onto the stack.
constexpr std::size_t kMaxAddressText = INET6_ADDRSTRLEN;

bool copy_address(std::string_view text, std::array<char, kMaxAddressText + 1>& buffer) {
    if (text.empty() || text.size() > kMaxAddressText) return false;
    if (text.find('\0') != std::string_view::npos) return false;
    text.copy(buffer.data(), text.size());
    buffer[text.size()] = '\0';
    return true;
}

// The normalised text of an IPv4 or IPv6 literal, or nullopt.
std::optional<std::string> normalise(std::string_view text, bool want_v6) {
    std::array<char, kMaxAddressText + 1> in{};
    if (!copy_address(text, in)) return std::nullopt;
    const int family = want_v6 ? AF_INET6 : AF_INET;
    unsigned char bytes[sizeof(in6_addr)];
    if (inet_pton(family, in.data(), bytes) != 1) return std::nullopt;
    std::array<char, kMaxAddressText + 1> out{};
    if (inet_ntop(family, bytes, out.data(), out.size()) == nullptr) return std::nullopt;
    return std::string(out.data());
}

bool set_error(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
}

bool parse_port(std::string_view text, uint16_t* port, std::string* error, uint16_t min_port) {
    if (text.empty()) return set_error(error, "missing port after \":\"");
    for (char c : text) {
        if (c < '0' || c > '9') return set_error(error, "not a port: " + quoted(text));
    }
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min_port ||
        value > 65535) {
        return set_error(error, "port out of range: " + std::string(text) + " (allowed " +
                                    std::to_string(min_port) + "..65535)");
    }
    *port = static_cast<uint16_t>(value);
    return true;
}

}  // namespace

std::string Endpoint::to_string() const {
    const std::string port_text = std::to_string(port);
    if (address.find(':') != std::string::npos) return "[" + address + "]:" + port_text;
    return address + ":" + port_text;
}

bool is_ipv6_address(std::string_view text) {
    return normalise(text, true).has_value();
}

bool is_ip_address(std::string_view text) {
    return normalise(text, false).has_value() || normalise(text, true).has_value();
}

std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port,
                                       std::string* error, bool allow_any_address,
                                       uint16_t min_port) {
    if (text.empty()) {
        set_error(error, "empty address");
        return std::nullopt;
    }
    Endpoint endpoint;
    endpoint.port = default_port;

    if (text.front() == '[') {
        // "[IPv6]" or "[IPv6]:PORT".
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            set_error(error, "missing \"]\" in " + quoted(text));
            return std::nullopt;
        }
        const std::string_view host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        auto address = normalise(host, true);
        if (!address) {
            set_error(error, "not an IPv6 address: " + quoted(host) +
                                 (normalise(host, false) ? " (brackets are for IPv6 only)" : ""));
            return std::nullopt;
        }
        endpoint.address = std::move(*address);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                set_error(error, "expected \":PORT\" after \"]\" in " + quoted(text));
                return std::nullopt;
            }
            if (!parse_port(rest.substr(1), &endpoint.port, error, min_port)) return std::nullopt;
        }
        return endpoint;
    }

    const std::size_t first_colon = text.find(':');
    if (first_colon != std::string_view::npos && text.find(':', first_colon + 1) != text.npos) {
        // Two or more colons: a bare IPv6 address, which takes no port without brackets.
        auto address = normalise(text, true);
        if (!address) {
            set_error(error, "not an IP address: " + quoted(text) +
                                 " (write an IPv6 address with a port as [ADDRESS]:PORT)");
            return std::nullopt;
        }
        endpoint.address = std::move(*address);
        return endpoint;
    }

    std::string_view host = text;
    std::string_view port_text;
    if (first_colon != std::string_view::npos) {
        host = text.substr(0, first_colon);
        port_text = text.substr(first_colon + 1);
    }
    if (host.empty()) {
        // ":PORT": every local address, for listeners only.
        if (!allow_any_address) {
            set_error(error, "missing address before " + quoted(text.substr(first_colon)));
            return std::nullopt;
        }
    } else {
        auto address = normalise(host, false);
        if (!address) {
            set_error(error, "not an IP address: " + quoted(host));
            return std::nullopt;
        }
        endpoint.address = std::move(*address);
    }
    if (first_colon != std::string_view::npos &&
        !parse_port(port_text, &endpoint.port, error, min_port)) {
        return std::nullopt;
    }
    return endpoint;
}

}  // namespace soawatch
