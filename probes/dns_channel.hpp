// One c-ares channel bound to fixed server addresses and one transport, driven by our EventLoop.
// c-ares 1.18 has no event thread: its sockets are registered with the loop through
// ARES_OPT_SOCK_STATE_CB and its timeouts run from a loop timer (ares_timeout/ares_process_fd).
#pragma once

#include <ares.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "probes/event_loop.hpp"
#include "probes/spare_pool.hpp"

namespace soawatch {

struct ServerAddress {
    std::string address;  // textual IPv4 or IPv6
    uint16_t port = 53;
};

struct ChannelOptions {
    std::vector<ServerAddress> servers;  // empty: the system's resolv.conf
    bool tcp = false;                    // every query over TCP (ARES_FLAG_USEVC)
    std::chrono::milliseconds timeout{2000};
    unsigned tries = 1;  // c-ares tries per query; probes retry themselves so they can count
    // Every query sent on the channel ends with an OPT record (what dns::build_query adds for an
    // EDNS size). Only then may c-ares' EDNS mode be on: it reads UDP answers past 512 bytes, and
    // on a FORMERR without OPT it retries the query without its last 11 bytes and with ARCOUNT 0
    // (RFC 6891 7), which would cut the question of a query without OPT. An OPT carrying the
    // 4-byte EDNS EXPIRE option (the SOA probe's) leaves 4 bytes after the question in that
    // retry: outside every counted section, which parsers skip (BIND logs "trailing garbage"
    // and answers); the question stays whole.
    bool edns_queries = false;
    // More queries wait in a queue: the answers to a burst must fit the socket's receive buffer
    // (see kUdpReceiveBuffer) and the server's. A channel whose server stopped answering (only
    // timeouts since its last answer) allows far more: it sends no bursts back, and at 128 in
    // flight a dead address shared by 100,000 zones would hold every zone's check for an hour.
    std::size_t max_inflight = 128;
    std::size_t max_inflight_silent = 16384;
    // When set, the channel adds the queries waiting in its queue to this count, which the
    // channels of one prober (or of discovery) share: the scheduler holds back new checks while
    // it is high (Scheduler::run_due). Must outlive the channel.
    std::size_t* queued_total = nullptr;
};

// What came back for one query.
struct DnsReply {
    int status = ARES_SUCCESS;        // ARES_SUCCESS, ARES_ETIMEOUT, ARES_ECONNREFUSED, ...
    std::span<const uint8_t> answer;  // raw response when status == ARES_SUCCESS
    int socket_errno = 0;             // last socket error c-ares hit on this channel, if any
    std::chrono::duration<double> rtt{0};
    // When the channel finished the query (its answer read, or its last try timed out): the
    // clock read that timed `rtt`, for the caller's timestamp.
    std::chrono::steady_clock::time_point finished_at{};
};

// Where a query that must wait for an in-flight slot joins the channel's queue.
enum class SendOrder {
    last,   // behind every query already waiting (the usual: first come, first served)
    first,  // ahead of them: a query that others wait on (discovery's address lookups)
};

class DnsChannel {
    struct ConstructionKey {};

  public:
    using Callback = std::function<void(const DnsReply&)>;

    // Returns nullptr and sets *error when c-ares cannot be set up or an address is invalid.
    static std::unique_ptr<DnsChannel> create(EventLoop& loop, const ChannelOptions& options,
                                              std::string* error);
    DnsChannel(ConstructionKey, EventLoop& loop, const ChannelOptions& options);  // use create()
    ~DnsChannel();
    DnsChannel(const DnsChannel&) = delete;
    DnsChannel& operator=(const DnsChannel&) = delete;

    // Sends a complete DNS message with a fresh random ID (the message's own ID is ignored).
    // The message is copied. The callback runs exactly once on the loop thread, possibly before
    // send returns (when the socket cannot even be opened). When the in-flight cap is reached
    // the query waits in the queue, at its end or (SendOrder::first) at its front.
    void send(std::span<const uint8_t> query, Callback callback, SendOrder order = SendOrder::last);

    std::size_t inflight() const { return inflight_; }
    std::size_t queued() const { return queue_.size(); }
    uint64_t queries_sent() const { return queries_sent_; }
    EventLoop::Clock::time_point last_used() const { return last_used_; }

  private:
    struct Pending;
    void start(std::unique_ptr<Pending> pending, std::span<const uint8_t> query,
               EventLoop::Clock::time_point now);
    void finish(Pending* pending, int status, const unsigned char* abuf, int alen);
    void recycle(std::unique_ptr<Pending> pending);
    void process(ares_socket_t read_fd, ares_socket_t write_fd);
    void schedule_timeout();
    std::size_t inflight_cap() const;

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    static ares_socket_t sock_open(int domain, int type, int protocol, void* user);
    static int sock_close(ares_socket_t fd, void* user);
    static int sock_connect(ares_socket_t fd, const struct sockaddr* addr, ares_socklen_t len,
                            void* user);
    static ares_ssize_t sock_recvfrom(ares_socket_t fd, void* buf, size_t len, int flags,
                                      struct sockaddr* from, ares_socklen_t* from_len, void* user);
    static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec* vec, int count,
                                   void* user);

    // Owns the c-ares channel: ares_destroy on every way out, an early return of create() too.
    struct AresChannelDestroy {
        void operator()(ares_channel channel) const { ares_destroy(channel); }
    };
    using AresChannel = std::unique_ptr<std::remove_pointer_t<ares_channel>, AresChannelDestroy>;

    EventLoop& loop_;
    AresChannel channel_;
    std::size_t max_inflight_;
    std::size_t max_inflight_silent_;
    unsigned timeouts_since_answer_ = 0;
    std::size_t inflight_ = 0;
    uint64_t queries_sent_ = 0;
    int last_errno_ = 0;
    std::deque<std::unique_ptr<Pending>> queue_;
    std::size_t* queued_total_;  // ChannelOptions::queued_total, or this channel's own count
    std::size_t own_queued_total_ = 0;
    // Answered queries' entries, reused by the next sends (an allocation per query saved, and a
    // queued query's copy keeps its buffer); at most the in-flight cap of them.
    SparePool<Pending> spare_pending_;
    std::vector<uint8_t> message_;  // the query being handed to c-ares, with its ID (reused)
    EventLoop::TimerId timer_ = 0;
    EventLoop::Clock::time_point last_used_{};
    bool destroying_ = false;
    // The c-ares callbacks may not outlive the channel: a weak handle lets the loop skip them.
    std::shared_ptr<DnsChannel*> alive_;
};

}  // namespace soawatch
