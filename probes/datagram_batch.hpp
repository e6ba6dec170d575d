// The UDP datagrams of one event loop's c-ares sockets, many to a system call: queries are queued
// and sent with sendmmsg(2) before the loop waits (or once kBatch are queued), answers are read
// with recvmmsg(2) and handed to c-ares one per read. c-ares 1.18 sends each query with its own
// writev and reads each answer with its own recvfrom, plus one that finds the socket empty; where
// a system call's entry and exit is expensive (a paravirtualised guest: 1.1 us an empty recv on
// the benchmark machine, against 0.1 us on bare hardware) those calls were most of the agent's
// kernel time (docs/PERFORMANCE.md, "Batched system calls").
//
// What c-ares sees stays what the socket would have told it: a datagram read ahead is handed out
// in order with its source address, and a socket's data is dropped when c-ares closes it (as the
// kernel drops it). What differs: a send that fails at the flush (a pending ECONNREFUSED from an
// ICMP port unreachable, ENETUNREACH) is reported by the socket's next read, which the loop makes
// happen (unread()), so c-ares fails or retries every query in flight to that server at once, as
// when it reads the ICMP error itself (its own failed send failed that one query); a datagram the
// kernel has no room for (EAGAIN, ENOBUFS: not seen with 64 small datagrams a call) is lost, and
// its query times out, as for one lost on the wire. A query's RTT and c-ares' timeout start when
// it is queued: it leaves at the latest when 64 are queued or the loop is about to wait.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

namespace soawatch {

class DatagramBatch {
  public:
    // Datagrams per system call. The receive buffers are kBatch x kDatagramSize (256 KiB a loop,
    // taken at the first read, touched only as far as datagrams fill them).
    static constexpr std::size_t kBatch = 64;
    // c-ares 1.18 reads a UDP answer into MAXENDSSZ + 1 bytes.
    static constexpr std::size_t kDatagramSize = 4097;

    struct Stats {
        uint64_t datagrams_sent = 0;
        uint64_t send_calls = 0;  // sendmmsg calls
        uint64_t datagrams_received = 0;
        uint64_t receive_calls = 0;      // recvmmsg calls (those that found nothing included)
        uint64_t datagrams_dropped = 0;  // not sent: no room in the kernel, or a send error
    };

    DatagramBatch();
    ~DatagramBatch();
    DatagramBatch(const DatagramBatch&) = delete;
    DatagramBatch& operator=(const DatagramBatch&) = delete;

    // A connected, non-blocking UDP socket whose datagrams go through the batch from now on.
    void adopt(int fd);
    // Before the socket closes: its queued datagrams, data read ahead and send error go with it.
    void forget(int fd);
    bool adopted(int fd) const {
        return fd >= 0 && static_cast<std::size_t>(fd) < sockets_.size() && sockets_[fd].adopted;
    }
    // In unread() and neither read nor closed since: still due for a read.
    bool offered(int fd) const { return adopted(fd) && sockets_[fd].offered; }

    // Queues one datagram (the iovecs' bytes, copied) for an adopted socket; flushes when kBatch
    // are queued. Returns its length, as writev would.
    ssize_t send(int fd, const struct iovec* vec, int count);
    // The adopted socket's next datagram, as recvfrom(2) with a buffer of `len` would return it:
    // its length (cut to `len`), -1 with errno (EAGAIN: none now, or the socket's error).
    ssize_t receive(int fd, void* buf, std::size_t len, struct sockaddr* from, socklen_t* from_len);

    // Sends every queued datagram, in order per socket.
    void flush();
    // Sockets that have something for c-ares to read that their readiness would not show: a send
    // error of a flush, or datagrams read ahead and left (c-ares stopped reading early). The
    // caller has them read (as readable), then calls settle_unread().
    const std::vector<int>& unread();
    // After the reads: what a socket of unread() still holds although it was not read at all
    // (c-ares no longer reads it) is dropped, so it is not offered for ever.
    void settle_unread();

    // Something for unread() now.
    bool has_unread() const {
        return !failed_.empty() || !parked_.empty() ||
               (read_ahead_ && read_ahead_->next < read_ahead_->count);
    }
    std::size_t queued() const { return outbox_.size(); }
    const Stats& stats() const { return stats_; }

  private:
    struct Socket {
        bool adopted = false;
        bool offered = false;  // in unread(), not read since
        int error = 0;         // a flush's send error, for the next read
    };
    struct Queued {
        int fd;
        uint32_t offset;  // in outbox_bytes_
        uint32_t size;
    };
    struct Parked {  // a datagram read ahead for a socket that another read came before
        std::vector<uint8_t> bytes;
        sockaddr_storage from{};
        socklen_t from_len = 0;
    };
    // The recvmmsg buffers and what the last call left in them, for one socket.
    struct ReadAhead {
        std::array<uint8_t, kBatch * kDatagramSize> bytes;
        std::array<mmsghdr, kBatch> messages;
        std::array<iovec, kBatch> vectors;
        std::array<sockaddr_storage, kBatch> from;
        int fd = -1;
        std::size_t next = 0;
        std::size_t count = 0;
        // The last recvmmsg found fewer than kBatch: the socket was empty then. The read after
        // the read-ahead runs out says EAGAIN without a system call; the loop's epoll is
        // level-triggered, so a datagram that came in the meantime wakes it again.
        bool drained = false;
        void clear() {
            fd = -1;
            next = count = 0;
        }
    };

    Socket& socket(int fd);
    void drop(int fd);  // the socket's queued datagrams, read-ahead and parked datagrams
    void park_read_ahead();
    static ssize_t hand_out(const uint8_t* data, std::size_t size, const sockaddr_storage& source,
                            socklen_t source_len, void* buf, std::size_t len, struct sockaddr* from,
                            socklen_t* from_len);

    std::vector<Socket> sockets_;  // by fd
    std::vector<Queued> outbox_;
    std::vector<uint8_t> outbox_bytes_;
    std::unique_ptr<ReadAhead> read_ahead_;
    std::unordered_map<int, std::deque<Parked>> parked_;
    std::vector<int> failed_;  // sockets a flush stored an error for, since the last unread()
    std::vector<int> unread_;
    Stats stats_;
};

}  // namespace soawatch
