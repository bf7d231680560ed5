#include "tests/unit/support/tls_client.hpp"

#include "tests/unit/support/api_record.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace oag::test {

int tcp_connect(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

namespace {

// Reads one response from `read_some`; returns status 0 when the stream ended early.
template <typename ReadSome>
HttpReply read_response(std::string& buf, ReadSome read_some) {
  HttpReply r;
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    char tmp[16384];
    const int n = read_some(tmp, sizeof tmp);
    if (n <= 0) return r;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  const std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return r;
  r.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    const std::string line = head.substr(pos, e - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = e + 2;
  }
  const auto cl = r.headers.find("content-length");
  const std::size_t len = cl == r.headers.end() ? 0 : std::stoul(cl->second);
  while (buf.size() < len) {
    char tmp[16384];
    const int n = read_some(tmp, sizeof tmp);
    if (n <= 0) {
      r.status = 0;
      return r;
    }
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  r.body = buf.substr(0, len);
  buf.erase(0, len);
  return r;
}

std::string format_request(const std::string& method, const std::string& path,
                           const std::string& body, const std::string& content_type) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!body.empty() || method == "POST") {
    if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return req + "\r\n" + body;
}

}  // namespace

struct TlsClient::Impl {
  unsigned short port;
  std::string ca, cert, key;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  std::string buf;

  void close() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
    ssl = nullptr;
    fd = -1;
    buf.clear();
  }
};

TlsClient::TlsClient(unsigned short port, const std::string& ca_file, const std::string& cert,
                     const std::string& key)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->ca = ca_file;
  impl_->cert = cert;
  impl_->key = key;
  impl_->ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(impl_->ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(impl_->ctx, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(impl_->ctx, cert.c_str());
    SSL_CTX_use_PrivateKey_file(impl_->ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
}

TlsClient::~TlsClient() {
  impl_->close();
  SSL_CTX_free(impl_->ctx);
}

bool TlsClient::connect() {
  impl_->close();
  impl_->fd = tcp_connect(impl_->port);
  if (impl_->fd < 0) {
    error_ = "connect failed";
    return false;
  }
  impl_->ssl = SSL_new(impl_->ctx);
  SSL_set_fd(impl_->ssl, impl_->fd);
  SSL_set_tlsext_host_name(impl_->ssl, "localhost");
  SSL_set1_host(impl_->ssl, "localhost");
  if (SSL_connect(impl_->ssl) != 1) {
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
    error_ = e;
    impl_->close();
    return false;
  }
  return true;
}

HttpReply TlsClient::request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type) {
  if (!impl_->ssl && !connect()) return {};
  const std::string req = format_request(method, path, body, content_type);
  if (SSL_write(impl_->ssl, req.data(), static_cast<int>(req.size())) <= 0) {
    error_ = "write failed";
    impl_->close();
    return {};
  }
  auto r = read_response(impl_->buf, [this](char* p, int n) { return SSL_read(impl_->ssl, p, n); });
  if (r.status == 0) {
    error_ = "connection closed";
    impl_->close();
  } else if (r.headers["connection"] == "close") {
    impl_->close();
  }
  record_answer(method, path, r.status, r.headers["content-type"], r.body);
  return r;
}

bool TlsClient::send_raw(const std::string& bytes) {
  if (!impl_->ssl && !connect()) return false;
  return SSL_write(impl_->ssl, bytes.data(), static_cast<int>(bytes.size())) > 0;
}

bool TlsClient::wait_closed() {
  if (!impl_->ssl) return true;
  char tmp[4096];
  const int n = SSL_read(impl_->ssl, tmp, sizeof tmp);
  impl_->close();
  return n <= 0;
}

HttpReply http_get(unsigned short port, const std::string& path) {
  const int fd = tcp_connect(port);
  if (fd < 0) return {};
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return {};
  }
  std::string buf;
  auto r = read_response(buf, [fd](char* p, int n) {
    return static_cast<int>(::read(fd, p, static_cast<std::size_t>(n)));
  });
  ::close(fd);
  record_answer("GET", path, r.status, r.headers["content-type"], r.body);
  return r;
}

}  // namespace oag::test
