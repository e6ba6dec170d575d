// NOTIFY over TCP (RFC 1996 allows it; RFC 7766 5): the connections of the NotifyListener's TCP
// socket. Knot DNS 3.2 sends its NOTIFYs over TCP only. Each message (two-octet length first,
// RFC 1035 4.2.2) is answered through the listener's own path (the same rate limit and
// counters as UDP); a connection is closed when the peer closes it, when it sends something
// that is not a NOTIFY, or kLifetime after it was accepted (a primary sends its NOTIFY, reads the
// answer and closes within milliseconds). Connections are capped:
// an unauthenticated peer holding sockets open costs at most kMaxConnections descriptors.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "probes/event_loop.hpp"
#include "probes/unique_fd.hpp"

namespace soawatch {

class NotifyTcpServer {
  public:
    // The answer to one message; empty: no answer, and the connection is closed.
    using Responder = std::function<std::vector<uint8_t>(std::span<const uint8_t> message)>;

    // `listening`: a bound, listening, non-blocking TCP socket.
    NotifyTcpServer(EventLoop& loop, UniqueFd listening, Responder responder);
    ~NotifyTcpServer();
    NotifyTcpServer(const NotifyTcpServer&) = delete;
    NotifyTcpServer& operator=(const NotifyTcpServer&) = delete;

    std::size_t connections() const { return connections_.size(); }

    static constexpr std::size_t kMaxConnections = 32;
    static constexpr std::chrono::seconds kLifetime{5};
    static constexpr std::size_t kMaxMessage = 4096;  // a NOTIFY is small (a question, an SOA)

  private:
    struct Connection;
    void on_accept();
    void on_ready(uint64_t id, bool readable, bool writable);
    void close(uint64_t id);

    EventLoop& loop_;
    UniqueFd listening_;
    Responder responder_;
    std::map<uint64_t, std::unique_ptr<Connection>> connections_;
    uint64_t next_id_ = 1;
};

}  // namespace soawatch
