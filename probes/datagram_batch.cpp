#include "probes/datagram_batch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace soawatch {

DatagramBatch::DatagramBatch() = default;
DatagramBatch::~DatagramBatch() = default;

DatagramBatch::Socket& DatagramBatch::socket(int fd) {
    if (static_cast<std::size_t>(fd) >= sockets_.size())
        sockets_.resize(static_cast<std::size_t>(fd) + 1);
    return sockets_[static_cast<std::size_t>(fd)];
}

void DatagramBatch::adopt(int fd) {
    if (fd < 0) return;
    drop(fd);  // nothing of an earlier socket with this number, had forget() been missed
    socket(fd) = Socket{.adopted = true};
}

void DatagramBatch::forget(int fd) {
    if (!adopted(fd)) return;
    sockets_[static_cast<std::size_t>(fd)] = Socket{};
    drop(fd);
}

void DatagramBatch::drop(int fd) {
    // Its bytes stay in outbox_bytes_ until the flush, unsent.
    std::erase_if(outbox_, [fd](const Queued& q) { return q.fd == fd; });
    if (read_ahead_ && read_ahead_->fd == fd) read_ahead_->clear();
    parked_.erase(fd);
}

ssize_t DatagramBatch::send(int fd, const struct iovec* vec, int count) {
    std::size_t size = 0;
    const auto offset = static_cast<uint32_t>(outbox_bytes_.size());
    for (int i = 0; i < count; ++i) {
        const auto* base = static_cast<const uint8_t*>(vec[i].iov_base);
        outbox_bytes_.insert(outbox_bytes_.end(), base, base + vec[i].iov_len);
        size += vec[i].iov_len;
    }
    outbox_.push_back(Queued{fd, offset, static_cast<uint32_t>(size)});
    if (outbox_.size() >= kBatch) flush();
    return static_cast<ssize_t>(size);
}

void DatagramBatch::flush() {
    if (outbox_.empty()) return;
    // Grouped by socket for one sendmmsg each, in the queue's order within each (a zone's check
    // queues one query to each of its addresses, so sockets interleave). send() flushes at
    // kBatch, so there are at most kBatch: an index sort on the stack, where std::stable_sort
    // would allocate.
    const std::size_t count = outbox_.size();
    std::array<uint32_t, kBatch> order;
    std::array<mmsghdr, kBatch> messages;
    std::array<iovec, kBatch> vectors;
    for (std::size_t i = 0; i < count; ++i) order[i] = static_cast<uint32_t>(i);
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count),
              [this](uint32_t a, uint32_t b) {
                  return outbox_[a].fd != outbox_[b].fd ? outbox_[a].fd < outbox_[b].fd : a < b;
              });
    for (std::size_t i = 0; i < count; ++i) {
        const Queued& q = outbox_[order[i]];
        vectors[i] = iovec{outbox_bytes_.data() + q.offset, q.size};
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    std::size_t i = 0;
    while (i < count) {
        const int fd = outbox_[order[i]].fd;
        std::size_t end = i;
        while (end < count && outbox_[order[end]].fd == fd) ++end;
        while (i < end) {
            ++stats_.send_calls;
            const int sent = ::sendmmsg(fd, &messages[i], static_cast<unsigned>(end - i), 0);
            if (sent > 0) {
                i += static_cast<std::size_t>(sent);
                stats_.datagrams_sent += static_cast<uint64_t>(sent);
                continue;
            }
            if (sent < 0 && errno == EINTR) continue;
            const int error = sent < 0 ? errno : EAGAIN;
            if (error != EAGAIN && error != EWOULDBLOCK && error != ENOBUFS) {
                // c-ares learns why from the socket's next read, then closes the socket and
                // retries or fails every query of the server, as when it reads a pending ICMP
                // error itself.
                Socket& s = socket(fd);
                s.error = error;
                s.offered = false;
                failed_.push_back(fd);
            }
            // Neither this datagram nor the socket's after it are sent (no room in the send
            // buffer: lost, as on the wire).
            stats_.datagrams_dropped += end - i;
            i = end;
        }
    }
    outbox_.clear();
    outbox_bytes_.clear();
}

ssize_t DatagramBatch::hand_out(const uint8_t* data, std::size_t size,
                                const sockaddr_storage& source, socklen_t source_len, void* buf,
                                std::size_t len, struct sockaddr* from, socklen_t* from_len) {
    const std::size_t copied = std::min(size, len);
    std::memcpy(buf, data, copied);
    if (from && from_len) {
        std::memcpy(from, &source, std::min<std::size_t>(*from_len, source_len));
        *from_len = source_len;
    }
    return static_cast<ssize_t>(copied);
}

void DatagramBatch::park_read_ahead() {
    ReadAhead& ra = *read_ahead_;
    auto& parked = parked_[ra.fd];
    for (; ra.next < ra.count; ++ra.next) {
        const uint8_t* data = ra.bytes.data() + ra.next * kDatagramSize;
        Parked p;
        p.bytes.assign(data, data + ra.messages[ra.next].msg_len);
        p.from = ra.from[ra.next];
        p.from_len = ra.messages[ra.next].msg_hdr.msg_namelen;
        parked.push_back(std::move(p));
    }
    ra.clear();
}

ssize_t DatagramBatch::receive(int fd, void* buf, std::size_t len, struct sockaddr* from,
                               socklen_t* from_len) {
    Socket& s = socket(fd);
    s.offered = false;
    if (s.error != 0) {
        errno = std::exchange(s.error, 0);
        return -1;
    }
    if (const auto it = parked_.find(fd); it != parked_.end()) {
        const Parked p = std::move(it->second.front());
        it->second.pop_front();
        if (it->second.empty()) parked_.erase(it);
        return hand_out(p.bytes.data(), p.bytes.size(), p.from, p.from_len, buf, len, from,
                        from_len);
    }
    if (!read_ahead_) {
        // For overwrite: the 256 KiB of buffers are only touched as datagrams fill them.
        read_ahead_ = std::make_unique_for_overwrite<ReadAhead>();
        read_ahead_->clear();
        for (std::size_t i = 0; i < kBatch; ++i) {
            read_ahead_->vectors[i] =
                iovec{read_ahead_->bytes.data() + i * kDatagramSize, kDatagramSize};
            read_ahead_->messages[i] = mmsghdr{};
            read_ahead_->messages[i].msg_hdr.msg_name = &read_ahead_->from[i];
            read_ahead_->messages[i].msg_hdr.msg_iov = &read_ahead_->vectors[i];
            read_ahead_->messages[i].msg_hdr.msg_iovlen = 1;
        }
    }
    ReadAhead& ra = *read_ahead_;
    if (ra.fd == fd) {
        if (ra.next < ra.count) {
            const std::size_t i = ra.next++;
            return hand_out(ra.bytes.data() + i * kDatagramSize, ra.messages[i].msg_len, ra.from[i],
                            ra.messages[i].msg_hdr.msg_namelen, buf, len, from, from_len);
        }
        if (ra.drained) {
            ra.drained = false;
            errno = EAGAIN;
            return -1;
        }
    } else if (ra.next < ra.count) {
        park_read_ahead();  // another socket's datagrams, still to be read: kept for it
    }
    for (auto& message : ra.messages) message.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    ++stats_.receive_calls;
    const int received = ::recvmmsg(fd, ra.messages.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) {
        ra.clear();
        if (received == 0) errno = EAGAIN;
        return -1;
    }
    stats_.datagrams_received += static_cast<uint64_t>(received);
    ra.fd = fd;
    ra.count = static_cast<std::size_t>(received);
    ra.next = 1;
    ra.drained = ra.count < kBatch;
    return hand_out(ra.bytes.data(), ra.messages[0].msg_len, ra.from[0],
                    ra.messages[0].msg_hdr.msg_namelen, buf, len, from, from_len);
}

const std::vector<int>& DatagramBatch::unread() {
    unread_.clear();
    auto offer = [this](int fd) {
        Socket& s = socket(fd);
        if (s.offered) return;  // already in the list
        s.offered = true;
        unread_.push_back(fd);
    };
    if (read_ahead_ && read_ahead_->next < read_ahead_->count) offer(read_ahead_->fd);
    for (const auto& [fd, datagrams] : parked_) offer(fd);
    for (const int fd : failed_)
        if (adopted(fd) && sockets_[static_cast<std::size_t>(fd)].error != 0) offer(fd);
    failed_.clear();
    return unread_;
}

void DatagramBatch::settle_unread() {
    for (const int fd : unread_) {
        if (!adopted(fd)) continue;
        Socket& s = sockets_[static_cast<std::size_t>(fd)];
        if (!s.offered) continue;  // read (or failed again since): what is left is still due
        s.offered = false;
        s.error = 0;
        parked_.erase(fd);
        if (read_ahead_ && read_ahead_->fd == fd) read_ahead_->clear();
    }
    unread_.clear();
}

}  // namespace soawatch
