#include "probes/dns_channel.hpp"

#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "probes/ares_memory.hpp"

namespace soawatch {

namespace {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        ares_library_init_mem(ARES_LIB_INIT_ALL, &ares_memory::allocate, &ares_memory::release,
                              &ares_memory::reallocate);
    });
}

// A query ID nobody off the path can guess (RFC 5452 section 4.3). c-ares 1.18's ares_send sends
// the message with the caller's ID and matches answers by ID, then question: with one fixed ID,
// every answer would be compared with every query in flight on the channel (and spoofing an
// answer would only need the source port). getrandom(2) fills a pool of IDs at a time.
uint16_t random_query_id() {
    thread_local std::array<uint16_t, 128> pool{};  // 256 bytes: getrandom never returns short
    thread_local std::size_t next = pool.size();
    if (next == pool.size()) {
        if (getrandom(pool.data(), sizeof pool, 0) != static_cast<ssize_t>(sizeof pool)) {
            thread_local std::mt19937 fallback{std::random_device{}()};
            for (auto& id : pool) id = static_cast<uint16_t>(fallback());
        }
        next = 0;
    }
    return pool[next++];
}

// Answers wait in the socket's receive buffer while the loop is busy (sending a burst, or
// evaluating). The kernel charges each small datagram about 1 KiB (skb truesize): ask for room
// for far more than the in-flight cap (the kernel caps this at net.core.rmem_max, 208 KiB by
// default, and doubles it), so a burst of answers is not dropped and then retried after a
// timeout.
constexpr int kUdpReceiveBuffer = 1 << 20;

// After this many timeouts in a row (no answer in between) the server counts as silent.
constexpr unsigned kSilentAfterTimeouts = 8;

}  // namespace

struct DnsChannel::Pending {
    DnsChannel* channel = nullptr;
    std::vector<uint8_t> query;  // only while queued: ares_send copies the message
    Callback callback;
    EventLoop::Clock::time_point sent_at{};
};

DnsChannel::DnsChannel(ConstructionKey, EventLoop& loop, const ChannelOptions& options)
    : loop_(loop),
      max_inflight_(options.max_inflight),
      max_inflight_silent_(std::max(options.max_inflight, options.max_inflight_silent)),
      queued_total_(options.queued_total ? options.queued_total : &own_queued_total_),
      spare_pending_(options.max_inflight),
      alive_(std::make_shared<DnsChannel*>(this)) {}

std::size_t DnsChannel::inflight_cap() const {
    return timeouts_since_answer_ >= kSilentAfterTimeouts ? max_inflight_silent_ : max_inflight_;
}

std::unique_ptr<DnsChannel> DnsChannel::create(EventLoop& loop, const ChannelOptions& options,
                                               std::string* error) {
    init_library_once();
    auto channel = std::make_unique<DnsChannel>(ConstructionKey{}, loop, options);

    ares_options opts{};
    int optmask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    // NOCHECKRESP: hand REFUSED and SERVFAIL answers back instead of failing over; IGNTC: the
    // prober decides about TCP itself. STAYOPEN keeps TCP connections for the next query, but
    // only there: c-ares 1.18 keeps one UDP socket per server while any query of the channel is
    // in flight, and with STAYOPEN for ever (ares_process.c, end_query closes the sockets only
    // when the channel has no query left and the flag is off). One socket is one source port,
    // and anycast routing (ECMP, SO_REUSEPORT) picks the instance by a hash of the 5-tuple: with
    // a port for life, every probe of an address would reach the same instance and a lagging
    // instance behind it would never be seen (docs/REPLICATION.md, anycast). Without the flag
    // the socket closes whenever the address has nothing in flight, so each round of a zone
    // leaves from a fresh port (RFC 5452 section 9.2 asks resolvers for the same).
    opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES |
                 (options.tcp ? ARES_FLAG_USEVC | ARES_FLAG_STAYOPEN : ARES_FLAG_IGNTC);
    opts.timeout = static_cast<int>(options.timeout.count());
    opts.tries = static_cast<int>(options.tries);
    // c-ares 1.18 cuts a UDP answer to 512 bytes unless ARES_FLAG_EDNS is set, and then to
    // ednspsz (ares_process.c, process_answer); our queries carry their own OPT record, so allow
    // the largest datagram c-ares reads (4096). Without EDNS no server sends more than 512.
    if (options.edns_queries) {
        opts.flags |= ARES_FLAG_EDNS;
        opts.ednspsz = 4096;
        optmask |= ARES_OPT_EDNSPSZ;
    }
    opts.sock_state_cb = &DnsChannel::on_sock_state;
    opts.sock_state_cb_data = channel.get();
    ares_channel raw = nullptr;
    int rc = ares_init_options(&raw, &opts, optmask);
    if (rc != ARES_SUCCESS) {
        if (error) *error = std::string("c-ares init: ") + ares_strerror(rc);
        return nullptr;
    }
    channel->channel_.reset(raw);

    static const ares_socket_functions functions = {
        &DnsChannel::sock_open,     &DnsChannel::sock_close, &DnsChannel::sock_connect,
        &DnsChannel::sock_recvfrom, &DnsChannel::sock_sendv,
    };
    ares_set_socket_functions(channel->channel_.get(), &functions, channel.get());

    if (!options.servers.empty()) {
        std::vector<ares_addr_port_node> nodes(options.servers.size());
        for (std::size_t i = 0; i < options.servers.size(); ++i) {
            auto& node = nodes[i];
            const auto& server = options.servers[i];
            if (inet_pton(AF_INET, server.address.c_str(), &node.addr.addr4) == 1) {
                node.family = AF_INET;
            } else if (inet_pton(AF_INET6, server.address.c_str(), &node.addr.addr6) == 1) {
                node.family = AF_INET6;
            } else {
                if (error) *error = "not an IP address: " + server.address;
                return nullptr;
            }
            node.udp_port = server.port;
            node.tcp_port = server.port;
            node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        }
        rc = ares_set_servers_ports(channel->channel_.get(), nodes.data());
        if (rc != ARES_SUCCESS) {
            if (error) *error = std::string("c-ares servers: ") + ares_strerror(rc);
            return nullptr;
        }
    }
    return channel;
}

DnsChannel::~DnsChannel() {
    destroying_ = true;
    *alive_ = nullptr;
    if (timer_) loop_.cancel_timer(timer_);
    // ares_destroy runs the callbacks of outstanding queries with ARES_EDESTRUCTION.
    // Here, not at member destruction: the callbacks need this object whole.
    channel_.reset();
    *queued_total_ -= queue_.size();
    for (auto& pending : queue_) {
        DnsReply reply;
        reply.status = ARES_EDESTRUCTION;
        pending->callback(reply);
    }
}

void DnsChannel::send(std::span<const uint8_t> query, Callback callback, SendOrder order) {
    auto pending = spare_pending_.take();
    pending->channel = this;
    pending->callback = std::move(callback);
    // One clock read for both: each is about 1% of a probe's CPU in a round.
    const auto now = EventLoop::Clock::now();
    last_used_ = now;
    if (inflight_ >= inflight_cap()) {
        pending->query.assign(query.begin(), query.end());
        if (order == SendOrder::first)
            queue_.push_front(std::move(pending));
        else
            queue_.push_back(std::move(pending));
        ++*queued_total_;
        return;
    }
    start(std::move(pending), query, now);
}

void DnsChannel::start(std::unique_ptr<Pending> pending, std::span<const uint8_t> query,
                       EventLoop::Clock::time_point now) {
    ++inflight_;
    ++queries_sent_;
    pending->sent_at = now;
    message_.assign(query.begin(), query.end());
    if (message_.size() >= 2) {
        const uint16_t id = random_query_id();
        message_[0] = static_cast<uint8_t>(id >> 8);
        message_[1] = static_cast<uint8_t>(id & 0xff);
    }
    // Ownership passes to c-ares until on_answer, which always runs exactly once. ares_send
    // copies the message before it sends (and maybe calls back), so message_ may be reused.
    ares_send(channel_.get(), message_.data(), static_cast<int>(message_.size()),
              &DnsChannel::on_answer, pending.release());
    schedule_timeout();
}

void DnsChannel::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<Pending> pending(static_cast<Pending*>(arg));
    DnsChannel* channel = pending->channel;
    channel->finish(pending.get(), status, abuf, alen);
    channel->recycle(std::move(pending));
}

void DnsChannel::recycle(std::unique_ptr<Pending> pending) {
    if (destroying_) return;
    spare_pending_.keep(std::move(pending), [](Pending& p) {
        p.callback = nullptr;  // its captures go now, not at the next send
        p.query.clear();       // the buffer stays, for the next queued copy
    });
}

void DnsChannel::finish(Pending* pending, int status, const unsigned char* abuf, int alen) {
    --inflight_;
    DnsReply reply;
    reply.status = status;
    if (status == ARES_SUCCESS && abuf && alen > 0)
        reply.answer = std::span<const uint8_t>(abuf, static_cast<std::size_t>(alen));
    reply.socket_errno = last_errno_;
    const auto now = EventLoop::Clock::now();
    reply.rtt = now - pending->sent_at;
    reply.finished_at = now;
    if (status == ARES_SUCCESS) last_errno_ = 0;
    if (status == ARES_ETIMEOUT)
        ++timeouts_since_answer_;
    else if (status == ARES_SUCCESS)
        timeouts_since_answer_ = 0;
    pending->callback(reply);
    if (destroying_) return;
    while (!queue_.empty() && inflight_ < inflight_cap()) {
        auto next = std::move(queue_.front());
        queue_.pop_front();
        --*queued_total_;
        // start copies the message before the entry moves on to c-ares.
        const std::span<const uint8_t> query = next->query;
        // Timed from the answer that freed its slot: the callback above ran in between (tens of
        // microseconds), within what a busy loop already adds to every RTT.
        start(std::move(next), query, now);
    }
}

void DnsChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel_.get(), read_fd, write_fd);
    schedule_timeout();
}

void DnsChannel::schedule_timeout() {
    // An armed timer is never late, at worst early (and then it re-arms from a fresh
    // ares_timeout): every query of a channel has the same timeout, so one armed for an earlier
    // query is due first; answers only remove queries, and a re-sent query gets a later
    // deadline. ares_timeout walks all of the channel's queries: call it only when no timer is
    // armed. The timer's callback clears timer_ before it processes.
    if (timer_ || destroying_) return;
    timeval tv{};
    timeval* next = ares_timeout(channel_.get(), nullptr, &tv);
    if (!next) return;  // nothing outstanding
    const auto now = EventLoop::Clock::now();
    auto due = now + std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec);
    // Each firing walks all queries in flight (ares_timeout): with thousands in flight (a silent
    // server), fire at most every 10 ms; a timeout reported 10 ms late changes nothing.
    if (inflight_ > max_inflight_) due = std::max(due, now + std::chrono::milliseconds(10));
    std::weak_ptr<DnsChannel*> weak = alive_;
    timer_ = loop_.add_timer(due, [weak] {
        auto alive = weak.lock();
        if (!alive || !*alive) return;
        DnsChannel* self = *alive;
        self->timer_ = 0;
        self->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
}

void DnsChannel::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<DnsChannel*>(data);
    if (!readable && !writable) {
        self->loop_.unwatch_fd(fd);
        return;
    }
    std::weak_ptr<DnsChannel*> weak = self->alive_;
    self->loop_.watch_fd(fd, readable, writable, [weak, fd](bool r, bool w) {
        auto alive = weak.lock();
        if (!alive || !*alive) return;
        (*alive)->process(r ? fd : ARES_SOCKET_BAD, w ? fd : ARES_SOCKET_BAD);
    });
}

// Thin wrappers over the system calls (a UDP socket's go through the loop's DatagramBatch) that
// remember the last error, so a failed query can say whether the port was closed (ECONNREFUSED
// from ICMP) or the network failed (ENETUNREACH...).
ares_socket_t DnsChannel::sock_open(int domain, int type, int protocol, void* user) {
    // c-ares 1.18 leaves user-managed sockets as they are (configure_socket skips them): they
    // must be non-blocking here, or its read loop blocks the event loop waiting for a second
    // datagram.
    int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        static_cast<DnsChannel*>(user)->last_errno_ = errno;
        return fd;
    }
    if (type == SOCK_DGRAM) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer);
        static_cast<DnsChannel*>(user)->loop_.datagrams().adopt(fd);
    }
    return fd;
}

int DnsChannel::sock_close(ares_socket_t fd, void* user) {
    static_cast<DnsChannel*>(user)->loop_.datagrams().forget(fd);
    return ::close(fd);
}

int DnsChannel::sock_connect(ares_socket_t fd, const struct sockaddr* addr, ares_socklen_t len,
                             void* user) {
    int rc = ::connect(fd, addr, len);
    if (rc < 0 && errno != EINPROGRESS && errno != EWOULDBLOCK) {
        int saved = errno;
        static_cast<DnsChannel*>(user)->last_errno_ = saved;
        errno = saved;
    }
    return rc;
}

ares_ssize_t DnsChannel::sock_recvfrom(ares_socket_t fd, void* buf, size_t len, int flags,
                                       struct sockaddr* from, ares_socklen_t* from_len,
                                       void* user) {
    // c-ares reads UDP with a source address (recvfrom), TCP without (recv).
    DatagramBatch& datagrams = static_cast<DnsChannel*>(user)->loop_.datagrams();
    ssize_t n = !from                   ? ::recv(fd, buf, len, flags)
                : datagrams.adopted(fd) ? datagrams.receive(fd, buf, len, from, from_len)
                                        : ::recvfrom(fd, buf, len, flags, from, from_len);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        int saved = errno;
        static_cast<DnsChannel*>(user)->last_errno_ = saved;
        errno = saved;
    } else if (n == 0) {
        // A TCP peer that closes without answering.
        static_cast<DnsChannel*>(user)->last_errno_ = ECONNRESET;
    }
    return n;
}

ares_ssize_t DnsChannel::sock_sendv(ares_socket_t fd, const struct iovec* vec, int count,
                                    void* user) {
    DatagramBatch& datagrams = static_cast<DnsChannel*>(user)->loop_.datagrams();
    if (datagrams.adopted(fd)) return datagrams.send(fd, vec, count);  // a send error: at a read
    ssize_t n = ::writev(fd, vec, count);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        int saved = errno;
        static_cast<DnsChannel*>(user)->last_errno_ = saved;
        errno = saved;
    }
    return n;
}

}  // namespace soawatch
