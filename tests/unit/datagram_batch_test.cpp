// The event loop's batched datagram I/O over real UDP sockets on loopback: what c-ares reads and
// sends through it is what the sockets would have given it one call at a time.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "probes/datagram_batch.hpp"
#include "probes/event_loop.hpp"
#include "probes/unique_fd.hpp"

using namespace soawatch;

namespace {

UniqueFd udp_socket() {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    return fd;
}

// A socket bound to 127.0.0.1 on a free port.
UniqueFd bound_socket(sockaddr_in* address) {
    UniqueFd fd = udp_socket();
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    *address = a;
    return fd;
}

UniqueFd connected_socket(const sockaddr_in& to) {
    UniqueFd fd = udp_socket();
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
    return fd;
}

ssize_t queue(DatagramBatch& batch, int fd, const std::string& text) {
    iovec vec{const_cast<char*>(text.data()), text.size()};
    return batch.send(fd, &vec, 1);
}

// What a socket has received so far, one recv each.
std::vector<std::string> drain(int fd) {
    std::vector<std::string> got;
    char buf[2048];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) break;
        got.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return got;
}

std::vector<std::string> numbered(const std::string& prefix, int count) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) out.push_back(prefix + std::to_string(i));
    return out;
}

}  // namespace

TEST_CASE("datagram batch: queued datagrams leave at the flush, in order, one call a socket",
          "[datagram]") {
    sockaddr_in a{}, b{};
    UniqueFd server_a = bound_socket(&a), server_b = bound_socket(&b);
    UniqueFd client_a = connected_socket(a), client_b = connected_socket(b);
    DatagramBatch batch;
    batch.adopt(client_a.get());
    batch.adopt(client_b.get());
    // Interleaved, as a zone's check queues one query to each of its addresses.
    for (int i = 0; i < 10; ++i) {
        CHECK(queue(batch, client_a.get(), "a" + std::to_string(i)) ==
              static_cast<ssize_t>(("a" + std::to_string(i)).size()));
        queue(batch, client_b.get(), "b" + std::to_string(i));
    }
    CHECK(batch.queued() == 20);
    CHECK(drain(server_a.get()).empty());  // nothing on the wire before the flush
    batch.flush();
    CHECK(batch.queued() == 0);
    CHECK(drain(server_a.get()) == numbered("a", 10));
    CHECK(drain(server_b.get()) == numbered("b", 10));
    CHECK(batch.stats().datagrams_sent == 20);
    CHECK(batch.stats().send_calls == 2);
}

TEST_CASE("datagram batch: a full batch is sent without waiting for the flush", "[datagram]") {
    sockaddr_in a{};
    UniqueFd server = bound_socket(&a);
    UniqueFd client = connected_socket(a);
    DatagramBatch batch;
    batch.adopt(client.get());
    iovec parts[2] = {{const_cast<char*>("x"), 1}, {const_cast<char*>("yz"), 2}};
    for (std::size_t i = 0; i < DatagramBatch::kBatch; ++i)
        CHECK(batch.send(client.get(), parts, 2) == 3);  // c-ares' iovecs, gathered
    CHECK(batch.queued() == 0);
    const auto got = drain(server.get());
    CHECK(got.size() == DatagramBatch::kBatch);
    CHECK(got.front() == "xyz");
    CHECK(batch.stats().send_calls == 1);
}

TEST_CASE("datagram batch: answers read ahead come out one a read, with their source",
          "[datagram]") {
    sockaddr_in server_address{}, client_address{};
    UniqueFd server = bound_socket(&server_address);
    UniqueFd client = bound_socket(&client_address);
    REQUIRE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&server_address),
                      sizeof server_address) == 0);
    const auto sent = numbered("answer ", 100);
    for (const auto& text : sent)
        REQUIRE(::sendto(server.get(), text.data(), text.size(), 0,
                         reinterpret_cast<const sockaddr*>(&client_address),
                         sizeof client_address) == static_cast<ssize_t>(text.size()));
    DatagramBatch batch;
    batch.adopt(client.get());
    std::vector<std::string> got;
    char buf[4097];
    for (;;) {
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        const ssize_t n = batch.receive(client.get(), buf, sizeof buf,
                                        reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        got.emplace_back(buf, static_cast<std::size_t>(n));
        REQUIRE(from_len == sizeof(sockaddr_in));
        const auto* source = reinterpret_cast<const sockaddr_in*>(&from);
        CHECK(source->sin_port == server_address.sin_port);
        CHECK(source->sin_addr.s_addr == server_address.sin_addr.s_addr);
    }
    CHECK(got == sent);
    // 64, then the 36 left (fewer than a batch: the socket was empty), then EAGAIN from the
    // read-ahead alone, where c-ares would have made a 101st recvfrom.
    CHECK(batch.stats().receive_calls == 2);
    CHECK(batch.stats().datagrams_received == 100);

    // What comes later is read again.
    REQUIRE(::sendto(server.get(), "late", 4, 0, reinterpret_cast<const sockaddr*>(&client_address),
                     sizeof client_address) == 4);
    CHECK(batch.receive(client.get(), buf, sizeof buf, nullptr, nullptr) == 4);
    CHECK(std::string(buf, 4) == "late");

    SECTION("a datagram longer than the reader's buffer is cut, as recvfrom cuts it") {
        REQUIRE(::sendto(server.get(), "0123456789", 10, 0,
                         reinterpret_cast<const sockaddr*>(&client_address),
                         sizeof client_address) == 10);
        char small[4];
        // The read-ahead of "late" found the socket empty after it: EAGAIN first, without a
        // system call (the loop's level-triggered epoll brings c-ares back).
        CHECK(batch.receive(client.get(), small, sizeof small, nullptr, nullptr) == -1);
        CHECK(batch.receive(client.get(), small, sizeof small, nullptr, nullptr) == 4);
        CHECK(std::string(small, 4) == "0123");
    }
}

TEST_CASE("datagram batch: a socket read between another's datagrams keeps them for it",
          "[datagram]") {
    sockaddr_in server_address{}, a_address{}, b_address{};
    UniqueFd server = bound_socket(&server_address);
    UniqueFd a = bound_socket(&a_address), b = bound_socket(&b_address);
    for (const auto& [fd, to] : {std::pair{a.get(), a_address}, std::pair{b.get(), b_address}})
        for (int i = 0; i < 5; ++i)
            REQUIRE(::sendto(server.get(), &"01234"[i], 1, 0,
                             reinterpret_cast<const sockaddr*>(&to), sizeof to) == 1);
    DatagramBatch batch;
    batch.adopt(a.get());
    batch.adopt(b.get());
    char c = 0;
    CHECK(batch.receive(a.get(), &c, 1, nullptr, nullptr) == 1);
    CHECK(c == '0');
    CHECK(batch.receive(b.get(), &c, 1, nullptr, nullptr) == 1);  // a's four are parked
    CHECK(c == '0');
    // Both sockets' datagrams are in user space, where epoll cannot see them: offered to the
    // loop, which has each read.
    REQUIRE(batch.has_unread());
    auto offered = batch.unread();
    std::sort(offered.begin(), offered.end());
    CHECK(offered == std::vector<int>{std::min(a.get(), b.get()), std::max(a.get(), b.get())});
    for (const int fd : {a.get(), b.get()}) {
        std::string rest;
        while (batch.receive(fd, &c, 1, nullptr, nullptr) == 1) rest += c;
        CHECK(rest == "1234");
    }
    batch.settle_unread();
    CHECK_FALSE(batch.has_unread());
}

TEST_CASE("datagram batch: what a socket holds goes when it is forgotten", "[datagram]") {
    sockaddr_in server_address{}, client_address{};
    UniqueFd server = bound_socket(&server_address);
    UniqueFd client = bound_socket(&client_address);
    REQUIRE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&server_address),
                      sizeof server_address) == 0);
    DatagramBatch batch;
    batch.adopt(client.get());
    queue(batch, client.get(), "never sent");
    for (int i = 0; i < 3; ++i)
        REQUIRE(::sendto(server.get(), "x", 1, 0,
                         reinterpret_cast<const sockaddr*>(&client_address),
                         sizeof client_address) == 1);
    char c = 0;
    REQUIRE(batch.receive(client.get(), &c, 1, nullptr, nullptr) == 1);
    batch.forget(client.get());
    CHECK_FALSE(batch.adopted(client.get()));
    CHECK_FALSE(batch.has_unread());
    batch.flush();
    CHECK(drain(server.get()).empty());
    CHECK(batch.stats().datagrams_sent == 0);
    // The fd number, opened again by another socket, starts empty.
    batch.adopt(client.get());
    CHECK(batch.receive(client.get(), &c, 1, nullptr, nullptr) == -1);
    CHECK(errno == EAGAIN);
}

TEST_CASE("datagram batch: a send error at the flush is the socket's next read, through the loop",
          "[datagram]") {
    // A port nobody listens on: a datagram's ICMP port unreachable leaves ECONNREFUSED pending
    // on the connected socket, and the next send, the flush's, is the call that takes it.
    sockaddr_in closed{};
    { UniqueFd gone = bound_socket(&closed); }
    UniqueFd client = connected_socket(closed);
    EventLoop loop;
    DatagramBatch& batch = loop.datagrams();
    batch.adopt(client.get());
    for (int i = 0; i < 100 && !batch.has_unread(); ++i) {
        queue(batch, client.get(), "query");
        batch.flush();
        if (!batch.has_unread()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(batch.has_unread());
    CHECK(batch.stats().datagrams_dropped >= 1);
    // The error is gone from the socket (epoll has nothing to report): the loop has the socket
    // read, as DnsChannel has c-ares read it: until EAGAIN.
    int read_error = 0;
    bool timer_ran = false;
    loop.watch_fd(client.get(), true, false, [&](bool readable, bool) {
        if (!readable) return;
        char buf[512];
        while (batch.receive(client.get(), buf, sizeof buf, nullptr, nullptr) >= 0) {
        }
        if (errno == EAGAIN) return;
        read_error = errno;
        // What the failed queries' callbacks schedule (the scheduler's next wake) is due now,
        // not after the wait the loop had worked out before it had the socket read.
        loop.add_timer(std::chrono::milliseconds(0), [&] { timer_ran = true; });
    });
    // An idle loop waits up to 1 s at a time.
    loop.add_timer(std::chrono::seconds(5), [] {});
    const auto started = std::chrono::steady_clock::now();
    loop.run_until([&] { return timer_ran; });
    CHECK(read_error == ECONNREFUSED);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(500));
    CHECK_FALSE(batch.has_unread());
    loop.unwatch_fd(client.get());
}

TEST_CASE("datagram batch: what the loop offers and nobody reads is dropped", "[datagram]") {
    sockaddr_in closed{};
    { UniqueFd gone = bound_socket(&closed); }
    UniqueFd client = connected_socket(closed);
    DatagramBatch batch;
    batch.adopt(client.get());
    for (int i = 0; i < 100 && !batch.has_unread(); ++i) {
        queue(batch, client.get(), "query");
        batch.flush();
        if (!batch.has_unread()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(batch.unread() == std::vector<int>{client.get()});
    batch.settle_unread();  // not read (c-ares no longer reads the socket): not offered again
    CHECK_FALSE(batch.has_unread());
    CHECK(batch.unread().empty());
}
