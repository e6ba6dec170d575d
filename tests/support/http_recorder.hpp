// A small HTTP/1.1 server for tests on 127.0.0.1 (port 0: the kernel picks): it records every
// request and answers with the status the script returns for it, or never answers at all (a
// receiver that hangs). One thread, one connection at a time: enough for a client that sends
// one request per connection, as the alert dispatcher does.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace soawatch::test {

struct RecordedRequest {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const {
        for (const auto& [n, v] : headers)
            if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
        return "";
    }
};

class HttpRecorder {
  public:
    // Returns the status to answer with; 0: keep the connection open and never answer.
    using Script = std::function<int(const RecordedRequest&, std::size_t index)>;

    explicit HttpRecorder(Script script) : script_(std::move(script)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 64) != 0)
            throw std::runtime_error("http recorder: bind");
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        if (::pipe(stop_) != 0) throw std::runtime_error("http recorder: pipe");
        thread_ = std::thread([this] { serve(); });
    }
    ~HttpRecorder() {
        char c = 0;
        [[maybe_unused]] auto n = ::write(stop_[1], &c, 1);
        thread_.join();
        for (int fd : held_) ::close(fd);
        ::close(fd_);
        ::close(stop_[0]);
        ::close(stop_[1]);
    }
    HttpRecorder(const HttpRecorder&) = delete;
    HttpRecorder& operator=(const HttpRecorder&) = delete;

    uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::vector<RecordedRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }

  private:
    void serve() {
        for (;;) {
            pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(fds, 2, 1000) < 0) continue;
            if (fds[1].revents) return;
            if (!(fds[0].revents & POLLIN)) continue;
            const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) continue;
            RecordedRequest request;
            if (!read_request(conn, request)) {
                ::close(conn);
                continue;
            }
            std::size_t index;
            {
                std::lock_guard lock(mutex_);
                index = requests_.size();
                requests_.push_back(request);
            }
            const int status = script_(request, index);
            if (status == 0) {
                held_.push_back(conn);  // never answered; closed at destruction
                continue;
            }
            const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                         " Status\r\nContent-Length: 2\r\nConnection: close\r\n"
                                         "\r\nok";
            [[maybe_unused]] auto n = ::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
            ::close(conn);
        }
    }

    static bool read_request(int conn, RecordedRequest& r) {
        timeval tv{2, 0};
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string data;
        char buf[4096];
        std::size_t header_end = std::string::npos;
        while (header_end == std::string::npos) {
            const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
            if (n <= 0) return false;
            data.append(buf, static_cast<std::size_t>(n));
            header_end = data.find("\r\n\r\n");
        }
        std::size_t line_end = data.find("\r\n");
        const std::string request_line = data.substr(0, line_end);
        const std::size_t sp1 = request_line.find(' ');
        const std::size_t sp2 = request_line.find(' ', sp1 + 1);
        r.method = request_line.substr(0, sp1);
        r.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t length = 0;
        for (std::size_t pos = line_end + 2; pos < header_end;) {
            const std::size_t end = data.find("\r\n", pos);
            const std::string line = data.substr(pos, end - pos);
            const std::size_t colon = line.find(':');
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(line.substr(0, colon), value);
            if (strcasecmp(line.substr(0, colon).c_str(), "Content-Length") == 0)
                length = std::stoul(value);
            pos = end + 2;
        }
        r.body = data.substr(header_end + 4);
        while (r.body.size() < length) {
            const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
            if (n <= 0) return false;
            r.body.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }

    Script script_;
    int fd_ = -1;
    int stop_[2] = {-1, -1};
    uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::vector<RecordedRequest> requests_;
    std::vector<int> held_;
    std::thread thread_;
};

}  // namespace soawatch::test
