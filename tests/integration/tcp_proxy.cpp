#include "tests/integration/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "tests/unit/support/tls_client.hpp"

namespace oag::test {

namespace {

// One proxied connection: client side, upstream side, and whether it is armed to cut.
struct Pair {
  int client = -1;
  int upstream = -1;
  bool request_seen = false;  // armed: the request went upstream, the answer is to be dropped
};

}  // namespace

TcpProxy::TcpProxy(unsigned short upstream) : upstream_(upstream) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_, 64) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("proxy: cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  const char c = 0;
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::run() {
  std::vector<Pair> pairs;
  const auto close_pair = [](Pair& p) {
    ::close(p.client);
    ::close(p.upstream);
    p.client = p.upstream = -1;
  };
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) break;
    const std::size_t polled = pairs.size();  // a pair accepted below waits for the next poll
    if (fds[1].revents & POLLIN) {
      const int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        ++accepted_;
        const int u = mode_ == Mode::refuse ? -1 : tcp_connect(upstream_);
        if (u < 0)
          ::close(c);
        else
          pairs.push_back({c, u, false});
      }
    }
    for (std::size_t i = 0; i < polled; ++i) {
      Pair& p = pairs[i];
      char buf[16384];
      for (int side = 0; side < 2 && p.client >= 0; ++side) {
        if (!(fds[2 + 2 * i + side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = side == 0 ? p.client : p.upstream;
        const int to = side == 0 ? p.upstream : p.client;
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) {
          close_pair(p);
          break;
        }
        if (side == 0 && mode_ == Mode::cut_answer) p.request_seen = true;
        if (side == 1 && p.request_seen) {
          // The upstream answered (so it committed): the answer is lost on the way.
          ++cuts_;
          mode_ = Mode::pass;
          close_pair(p);
          break;
        }
        if (::write(to, buf, static_cast<std::size_t>(n)) != n) close_pair(p);
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (auto& p : pairs) close_pair(p);
}

}  // namespace oag::test
