#include "tools/oag-phone/transport.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace oag::phone {

namespace {

sockaddr_in loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

}  // namespace

Transport::Transport(TransportKind kind, const std::string& proxy_host, unsigned short proxy_port,
                     const TlsOptions& tls)
    : kind_(kind), tcp_(kind != TransportKind::udp) {
  proxy_.sin_family = AF_INET;
  proxy_.sin_port = htons(proxy_port);
  if (::inet_pton(AF_INET, proxy_host.c_str(), &proxy_.sin_addr) != 1)
    throw std::runtime_error("--proxy: an IPv4 address is expected, got " + proxy_host);
  if (kind == TransportKind::tls) {
    connect_tls(proxy_host, proxy_port, tls);
    return;
  }
  const bool tcp = tcp_;
  sock_ = ::socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  auto a = loopback(0);
  if (::bind(sock_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (tcp && ::listen(sock_, 16) != 0))
    throw std::runtime_error(std::string("cannot bind: ") + std::strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (tcp) {
    outbound_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(outbound_, reinterpret_cast<sockaddr*>(&proxy_), sizeof proxy_) != 0)
      throw std::runtime_error("--proxy: cannot connect over TCP to " + proxy_host + ":" +
                               std::to_string(proxy_port) + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(outbound_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buffers_[outbound_];
  }
}

void Transport::connect_tls(const std::string& proxy_host, unsigned short proxy_port,
                            const TlsOptions& tls) {
  const auto where = proxy_host + ":" + std::to_string(proxy_port);
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (tls.ca_file.empty() || SSL_CTX_load_verify_locations(ctx_, tls.ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("--proxy-ca: cannot read " + tls.ca_file);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx_, tls.cert_file.c_str()) != 1)
    throw std::runtime_error("--cert: cannot read " + tls.cert_file);
  if (!tls.chain_file.empty()) {
    BIO* b = BIO_new_file(tls.chain_file.c_str(), "r");
    if (b == nullptr) throw std::runtime_error("--chain: cannot read " + tls.chain_file);
    while (X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr))
      SSL_CTX_add0_chain_cert(ctx_, c);
    ERR_clear_error();
    BIO_free(b);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("--key: cannot read " + tls.key_file);
  outbound_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(outbound_, reinterpret_cast<sockaddr*>(&proxy_), sizeof proxy_) != 0)
    throw std::runtime_error("--proxy: cannot connect over TLS to " + where + ": " +
                             std::strerror(errno));
  int one = 1;
  ::setsockopt(outbound_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, outbound_);
  SSL_set1_host(ssl_, proxy_host.c_str());  // the proxy's certificate must name its address
  if (SSL_connect(ssl_) != 1) {
    char err[256];
    ERR_error_string_n(ERR_get_error(), err, sizeof err);
    throw std::runtime_error("--proxy: TLS handshake with " + where + " failed: " + err);
  }
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(outbound_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  buffers_[outbound_];
}

Transport::~Transport() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  for (auto& [fd, b] : buffers_) ::close(fd);
  if (sock_ >= 0) ::close(sock_);
}

void Transport::read_tls() {
  char buf[16384];
  for (;;) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      buffers_[outbound_].append(buf, static_cast<std::size_t>(n));
      if (SSL_pending(ssl_) > 0) continue;
      return;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    ERR_clear_error();
    tls_closed_ = true;  // nothing more will come; the caller's deadline ends the wait
    return;
  }
}

bool Transport::send_all(int fd, const std::string& data) {
  if (ssl_ != nullptr && fd == outbound_)
    return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) ==
           static_cast<int>(data.size());
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool Transport::send_to_proxy(const std::string& data) {
  if (tcp_) return send_all(outbound_, data);
  return ::sendto(sock_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&proxy_),
                  sizeof proxy_) == static_cast<ssize_t>(data.size());
}

bool Transport::reply(const Origin& o, const std::string& data) {
  if (tcp_) return send_all(o.fd, data);
  return ::sendto(sock_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&o.from),
                  sizeof o.from) == static_cast<ssize_t>(data.size());
}

std::optional<Incoming> Transport::receive(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    // A complete message already buffered on a TCP connection comes first.
    for (auto it = buffers_.begin(); it != buffers_.end();) {
      auto& buf = it->second;
      while (buf.starts_with("\r\n")) buf.erase(0, 2);  // keep-alive CRLFs
      const auto len = sip::frame_length(buf);
      if (len < 0) {  // garbage on the stream: drop the connection
        ::close(it->first);
        it = buffers_.erase(it);
        continue;
      }
      if (len > 0) {
        auto m = sip::parse(std::string_view(buf).substr(0, static_cast<std::size_t>(len)));
        const int fd = it->first;
        buf.erase(0, static_cast<std::size_t>(len));
        if (m) return Incoming{std::move(*m), Origin{fd, {}}};
      }
      ++it;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return std::nullopt;
    if (ssl_ != nullptr) {
      if (tls_closed_) {
        ::poll(nullptr, 0, static_cast<int>(left));
        return std::nullopt;
      }
      // One TLS connection: decrypted bytes may be waiting in OpenSSL already.
      if (SSL_pending(ssl_) > 0) {
        read_tls();
        continue;
      }
      pollfd p{outbound_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) > 0) read_tls();
      continue;
    }
    std::vector<pollfd> fds{{sock_, POLLIN, 0}};
    for (const auto& [fd, b] : buffers_) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (tcp_) {
        const int c = ::accept4(sock_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          int one = 1;  // 100, 180 and 200 go out back to back: no Nagle delay between them
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          buffers_[c];
        }
      } else {
        char buf[65536];
        Origin o;
        o.fd = sock_;
        socklen_t len = sizeof o.from;
        const ssize_t n =
            ::recvfrom(sock_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&o.from), &len);
        if (n > 0)
          if (auto m = sip::parse(std::string_view(buf, static_cast<std::size_t>(n))))
            return Incoming{std::move(*m), o};
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        if (fds[i].fd == outbound_) outbound_ = -1;
        ::close(fds[i].fd);
        buffers_.erase(fds[i].fd);
      } else {
        buffers_[fds[i].fd].append(buf, static_cast<std::size_t>(n));
      }
    }
  }
}

}  // namespace oag::phone
