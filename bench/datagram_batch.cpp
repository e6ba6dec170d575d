// What batching the probes' system calls could save: a SOA query's datagram (50 octets) sent and
// received over loopback one call each, against 64 a call (sendmmsg, recvmmsg). The agent sends
// and receives one datagram a call (c-ares's socket functions, probes/dns_channel.cpp); this
// says how much of the kernel's share per probe a batching layer under c-ares could take away.
//
//     build-dev/bench/datagram_batch [BATCHES]
//
// Prints the cost of an empty non-blocking receive (a system call's entry and exit) and of a
// datagram each way, per datagram, both ways; the median of five runs of each.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "probes/unique_fd.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr unsigned kBatch = 64;
constexpr std::size_t kDatagram = 50;

double median_ns(const std::function<void()>& run, double per) {
    std::vector<double> ns;
    for (int i = 0; i < 5; ++i) {
        const auto t0 = Clock::now();
        run();
        ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / per);
    }
    std::sort(ns.begin(), ns.end());
    return ns[ns.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const unsigned batches = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 3125;
    soawatch::UniqueFd receiver(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(receiver.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("bind");
        return 1;
    }
    soawatch::UniqueFd sender(::socket(AF_INET, SOCK_DGRAM, 0));
    if (::connect(sender.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        std::perror("connect");
        return 1;
    }
    std::array<char, kDatagram> query{};
    std::array<std::array<char, 512>, kBatch> buffers{};
    std::array<iovec, kBatch> in_vec{};
    std::array<iovec, kBatch> out_vec{};
    std::array<mmsghdr, kBatch> in{};
    std::array<mmsghdr, kBatch> out{};
    for (unsigned i = 0; i < kBatch; ++i) {
        in_vec[i] = {buffers[i].data(), buffers[i].size()};
        in[i].msg_hdr.msg_iov = &in_vec[i];
        in[i].msg_hdr.msg_iovlen = 1;
        out_vec[i] = {query.data(), query.size()};
        out[i].msg_hdr.msg_iov = &out_vec[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    const double total = static_cast<double>(batches) * kBatch;
    bool lost = false;

    const double empty = median_ns(
        [&] {
            for (unsigned i = 0; i < batches * kBatch; ++i)
                (void)::recv(receiver.get(), buffers[0].data(), buffers[0].size(), 0);
        },
        total);
    const double one_by_one = median_ns(
        [&] {
            for (unsigned b = 0; b < batches; ++b) {
                for (unsigned i = 0; i < kBatch; ++i)
                    (void)::send(sender.get(), query.data(), kDatagram, 0);
                for (unsigned i = 0; i < kBatch; ++i)
                    if (::recv(receiver.get(), buffers[i].data(), buffers[i].size(), 0) < 0)
                        lost = true;
            }
        },
        total);
    const double batched = median_ns(
        [&] {
            for (unsigned b = 0; b < batches; ++b) {
                (void)::sendmmsg(sender.get(), out.data(), kBatch, 0);
                if (::recvmmsg(receiver.get(), in.data(), kBatch, MSG_DONTWAIT, nullptr) !=
                    static_cast<int>(kBatch))
                    lost = true;
            }
        },
        total);
    std::printf("empty non-blocking recv: %.0f ns a call\n", empty);
    std::printf("send + recv, one datagram a call: %.0f ns a datagram\n", one_by_one);
    std::printf("sendmmsg + recvmmsg, %u a call: %.0f ns a datagram (%.1f%% less)\n", kBatch,
                batched, 100.0 * (one_by_one - batched) / one_by_one);
    if (lost) std::printf("(some datagrams were not received: the numbers undercount)\n");
    return 0;
}
