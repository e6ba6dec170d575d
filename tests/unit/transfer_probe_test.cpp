// The transfer prober on real sockets (probes/transfer_probe.*): a server that accepts and says
// nothing is a timeout without blocking the loop, a closed port is connection_refused, and the
// requests to one address wait their turn (kMaxPerAddress at once).
#include "probes/transfer_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <vector>

#include "probes/unique_fd.hpp"

using namespace soawatch;

namespace {

// A TCP socket on 127.0.0.1, bound to a free port; listening (connections complete in the
// kernel's backlog and are never read) or not (connecting is refused).
struct LocalSocket {
    UniqueFd fd;
    uint16_t port = 0;
    explicit LocalSocket(bool listening) {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t size = sizeof a;
        REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &size) == 0);
        port = ntohs(a.sin_port);
        if (listening) REQUIRE(::listen(fd.get(), 64) == 0);
    }
};

}  // namespace

TEST_CASE("unit: transfer probe to a silent server times out, one address at a time",
          "[transfer]") {
    LocalSocket silent(true);
    EventLoop loop;
    TransferProber prober(loop);
    std::vector<TransferObservation> done;
    const ProbeTarget target{"ns.example.", "127.0.0.1", silent.port};
    constexpr std::size_t kRequests = TransferProber::kMaxPerAddress + 4;
    for (std::size_t i = 0; i < kRequests; ++i)
        prober.axfr("example.test", target, std::chrono::milliseconds(100),
                    [&](TransferObservation obs) { done.push_back(std::move(obs)); });
    CHECK(prober.inflight() == TransferProber::kMaxPerAddress);
    CHECK(prober.waiting() == 4);
    // Another address is not held up by the silent one's queue.
    LocalSocket closed(false);
    std::optional<TransferObservation> other;
    prober.axfr("example.test", {"", "127.0.0.1", closed.port}, std::chrono::milliseconds(100),
                [&](TransferObservation obs) { other = std::move(obs); });
    loop.run_until([&] { return other.has_value(); });
    CHECK(done.empty());
    CHECK(other->result == TransferResult::connection_refused);

    loop.run_until([&] { return done.size() == kRequests; });
    for (const auto& obs : done) {
        CHECK(obs.result == TransferResult::timeout);
        CHECK(obs.detail == "no answer within 100 ms");
        CHECK(obs.target == target);
        CHECK(obs.zone == "example.test.");
    }
    CHECK(prober.inflight() == 0);
    CHECK(prober.waiting() == 0);
}
