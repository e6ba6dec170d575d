// A scripted DNS server for tests: UDP and TCP on one loopback port (port 0: the kernel picks),
// on IPv4 ("127.0.0.1", the default) or IPv6 ("::1"), answering each query with whatever the
// script returns. It lets tests produce the answers no
// well-behaved server sends (malformed records, TC over TCP, wrong questions, silence).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace soawatch::test {

struct FakeQuery {
    std::vector<uint8_t> wire;
    bool tcp = false;
    uint16_t source_port = 0;  // of a UDP query: the client's port
};

// Returns the bytes to send back (without the TCP length prefix); empty: stay silent.
using FakeScript = std::function<std::vector<uint8_t>(const FakeQuery&)>;

class FakeDnsServer {
  public:
    explicit FakeDnsServer(FakeScript script, const char* address = "127.0.0.1")
        : script_(std::move(script)) {
        // The kernel picks a free UDP port; the same TCP port may be taken (by a connection's
        // local end, for one): then try another pair.
        const int family = std::strchr(address, ':') ? AF_INET6 : AF_INET;
        for (int attempt = 0;; ++attempt) {
            sockaddr_storage addr{};
            socklen_t addr_len = 0;
            if (family == AF_INET6) {
                auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
                a6->sin6_family = AF_INET6;
                if (inet_pton(AF_INET6, address, &a6->sin6_addr) != 1)
                    throw std::runtime_error("fake dns: bad address");
                addr_len = sizeof(sockaddr_in6);
            } else {
                auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
                a4->sin_family = AF_INET;
                if (inet_pton(AF_INET, address, &a4->sin_addr) != 1)
                    throw std::runtime_error("fake dns: bad address");
                addr_len = sizeof(sockaddr_in);
            }
            udp_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (::bind(udp_, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
                ::close(udp_);
                throw std::runtime_error(std::string("fake dns: bind udp ") + address + ": " +
                                         std::strerror(errno));
            }
            socklen_t len = addr_len;
            getsockname(udp_, reinterpret_cast<sockaddr*>(&addr), &len);
            port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
            tcp_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (::bind(tcp_, reinterpret_cast<sockaddr*>(&addr), addr_len) == 0 &&
                ::listen(tcp_, 16) == 0)
                break;
            ::close(udp_);
            ::close(tcp_);
            if (attempt == 50) throw std::runtime_error("fake dns: bind tcp");
        }
        if (::pipe(stop_pipe_) != 0) throw std::runtime_error("fake dns: pipe");
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeDnsServer() {
        char c = 0;
        [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
        thread_.join();
        ::close(udp_);
        ::close(tcp_);
        ::close(stop_pipe_[0]);
        ::close(stop_pipe_[1]);
    }
    FakeDnsServer(const FakeDnsServer&) = delete;
    FakeDnsServer& operator=(const FakeDnsServer&) = delete;

    uint16_t port() const { return port_; }
    int udp_queries() const { return udp_queries_; }
    int tcp_queries() const { return tcp_queries_; }

  private:
    void serve() {
        for (;;) {
            pollfd fds[3] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
            if (::poll(fds, 3, 1000) < 0) continue;
            if (fds[2].revents) return;
            if (fds[0].revents & POLLIN) {
                uint8_t buf[4096];
                sockaddr_storage from{};
                socklen_t from_len = sizeof from;
                ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                                       &from_len);
                if (n > 0) {
                    ++udp_queries_;
                    const uint16_t source_port =
                        from.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<const sockaddr_in6*>(&from)->sin6_port)
                            : ntohs(reinterpret_cast<const sockaddr_in*>(&from)->sin_port);
                    auto reply = script_({std::vector<uint8_t>(buf, buf + n), false, source_port});
                    if (!reply.empty())
                        ::sendto(udp_, reply.data(), reply.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), from_len);
                }
            }
            if (fds[1].revents & POLLIN) serve_tcp_connection();
        }
    }

    // One connection, queries in sequence, until the client closes (tests are small).
    void serve_tcp_connection() {
        int conn = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return;
        timeval tv{2, 0};
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        for (;;) {
            uint8_t len_buf[2];
            if (!read_all(conn, len_buf, 2)) break;
            std::size_t len = (len_buf[0] << 8) | len_buf[1];
            std::vector<uint8_t> query(len);
            if (!read_all(conn, query.data(), len)) break;
            ++tcp_queries_;
            auto reply = script_({query, true});
            if (reply.empty()) continue;
            std::vector<uint8_t> framed = {static_cast<uint8_t>(reply.size() >> 8),
                                           static_cast<uint8_t>(reply.size() & 0xff)};
            framed.insert(framed.end(), reply.begin(), reply.end());
            if (::send(conn, framed.data(), framed.size(), MSG_NOSIGNAL) < 0) break;
        }
        ::close(conn);
    }

    static bool read_all(int fd, uint8_t* buf, std::size_t len) {
        std::size_t got = 0;
        while (got < len) {
            ssize_t n = ::recv(fd, buf + got, len - got, 0);
            if (n <= 0) return false;
            got += static_cast<std::size_t>(n);
        }
        return true;
    }

    FakeScript script_;
    int udp_ = -1;
    int tcp_ = -1;
    int stop_pipe_[2] = {-1, -1};
    uint16_t port_ = 0;
    std::atomic<int> udp_queries_{0};
    std::atomic<int> tcp_queries_{0};
    std::thread thread_;
};

// Builds answers to a query: the query's header and question, then what the test appends.
class AnswerBuilder {
  public:
    explicit AnswerBuilder(const std::vector<uint8_t>& query) {
        // Header and question only (drop the OPT record the query may carry).
        std::size_t pos = 12;
        while (pos < query.size() && query[pos] != 0) pos += query[pos] + 1;
        pos += 5;  // root label, QTYPE, QCLASS
        wire_.assign(query.begin(), query.begin() + static_cast<long>(std::min(pos, query.size())));
        wire_[2] |= 0x80;                         // QR
        wire_[2] &= static_cast<uint8_t>(~0x01);  // RD is echoed by servers; keep it simple
        wire_[3] = 0;
        set_count(6, 0);
        set_count(8, 0);
        set_count(10, 0);
    }
    AnswerBuilder& aa(bool on = true) {
        wire_[2] = static_cast<uint8_t>(on ? wire_[2] | 0x04 : wire_[2] & ~0x04);
        return *this;
    }
    AnswerBuilder& tc() {
        wire_[2] |= 0x02;
        return *this;
    }
    AnswerBuilder& rcode(uint8_t rc) {
        wire_[3] = static_cast<uint8_t>((wire_[3] & 0xf0) | (rc & 0x0f));
        return *this;
    }
    AnswerBuilder& qr(bool on) {
        wire_[2] = static_cast<uint8_t>(on ? wire_[2] | 0x80 : wire_[2] & ~0x80);
        return *this;
    }
    // An SOA record for the question's name (compressed: pointers to offset 12).
    AnswerBuilder& soa(uint32_t serial, int section = 0) {
        std::vector<uint8_t> rdata = {0xc0, 0x0c, 0xc0, 0x0c};
        for (uint32_t v : {serial, 3600u, 600u, 1209600u, 300u}) append32(rdata, v);
        return record(6, rdata, section);
    }
    AnswerBuilder& cname_to_question(int section = 0) { return record(5, {0xc0, 0x0c}, section); }
    // A record with the question's name as owner and arbitrary RDATA.
    AnswerBuilder& record(uint16_t type, const std::vector<uint8_t>& rdata, int section = 0) {
        std::vector<uint8_t> rr = {
            0xc0, 0x0c, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1};
        append32(rr, 300);
        rr.push_back(static_cast<uint8_t>(rdata.size() >> 8));
        rr.push_back(static_cast<uint8_t>(rdata.size()));
        rr.insert(rr.end(), rdata.begin(), rdata.end());
        wire_.insert(wire_.end(), rr.begin(), rr.end());
        int offset = 6 + 2 * section;
        set_count(offset, count(offset) + 1);
        return *this;
    }
    // An OPT record (RFC 6891 6.1.2: root owner, UDP size 1232) in the additional section,
    // holding `options` as its RDATA ({code, length, data}... as the test writes them).
    AnswerBuilder& opt(const std::vector<uint8_t>& options = {}) {
        std::vector<uint8_t> rr = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0};
        rr.push_back(static_cast<uint8_t>(options.size() >> 8));
        rr.push_back(static_cast<uint8_t>(options.size()));
        rr.insert(rr.end(), options.begin(), options.end());
        wire_.insert(wire_.end(), rr.begin(), rr.end());
        set_count(10, count(10) + 1);
        return *this;
    }
    // An NSID option (RFC 5001 2.3) holding `id`, for opt().
    static std::vector<uint8_t> nsid_option(std::string_view id) {
        std::vector<uint8_t> option = {0, 3, static_cast<uint8_t>(id.size() >> 8),
                                       static_cast<uint8_t>(id.size())};
        option.insert(option.end(), id.begin(), id.end());
        return option;
    }
    AnswerBuilder& raw(const std::vector<uint8_t>& bytes) {
        wire_.insert(wire_.end(), bytes.begin(), bytes.end());
        return *this;
    }
    AnswerBuilder& set_ancount(uint16_t n) {
        set_count(6, n);
        return *this;
    }
    std::vector<uint8_t> build() const { return wire_; }

  private:
    static void append32(std::vector<uint8_t>& out, uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(static_cast<uint8_t>(v >> shift));
    }
    uint16_t count(int offset) const {
        return static_cast<uint16_t>((wire_[offset] << 8) | wire_[offset + 1]);
    }
    void set_count(int offset, uint16_t n) {
        wire_[offset] = static_cast<uint8_t>(n >> 8);
        wire_[offset + 1] = static_cast<uint8_t>(n);
    }
    std::vector<uint8_t> wire_;
};

}  // namespace soawatch::test
