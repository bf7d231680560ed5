#include "client/https.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace oag::client {

namespace {

using Clock = std::chrono::steady_clock;

std::string ssl_error() {
  char e[256];
  ERR_error_string_n(ERR_get_error(), e, sizeof e);
  return e;
}

int remaining_ms(Clock::time_point deadline) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Non-blocking connect with the deadline.
int tcp_connect(const std::string& host, unsigned short port, Clock::time_point deadline,
                std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    error = std::string("resolve ") + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (auto* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = std::string("connect: ") + std::strerror(errno);
      ::close(fd);
      fd = -1;
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (!wait_fd(fd, POLLOUT, deadline) ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      error = err ? std::string("connect: ") + std::strerror(err) : "connect: timeout";
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

// Blocks SIGPIPE on this thread for the guard's life: a write to a connection the server closed
// must fail with EPIPE, not kill the program that embeds the library (it may not ignore SIGPIPE).
// A SIGPIPE raised meanwhile is consumed before the old mask returns.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{}, old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

}  // namespace

struct HttpsClient::Context {
  SSL_CTX* ctx = nullptr;
  ~Context() { SSL_CTX_free(ctx); }
};

struct HttpsClient::Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string buf;
  ~Connection() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
  // Runs one SSL operation on the non-blocking socket until done or the deadline.
  template <typename Op>
  int io(Op op, Clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      const int r = op();
      if (r > 0) return r;
      const int e = SSL_get_error(ssl, r);
      if (e == SSL_ERROR_WANT_READ) {
        if (!wait_fd(fd, POLLIN, deadline)) return -2;
      } else if (e == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(fd, POLLOUT, deadline)) return -2;
      } else {
        return r == 0 ? 0 : -1;
      }
    }
  }
};

HttpsClient::HttpsClient(HttpsOptions options) : options_(std::move(options)), ctx_(new Context) {
  if (options_.server_name.empty()) options_.server_name = options_.host;
  ctx_->ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx_->ctx) throw std::runtime_error("TLS: " + ssl_error());
  SSL_CTX_set_min_proto_version(ctx_->ctx, TLS1_2_VERSION);
  if (options_.verify_server) {
    if (SSL_CTX_load_verify_locations(ctx_->ctx, options_.ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("ca_file " + options_.ca_file + ": " + ssl_error());
    SSL_CTX_set_verify(ctx_->ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_->ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options_.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_->ctx, options_.cert_file.c_str()) != 1)
      throw std::runtime_error("cert_file " + options_.cert_file + ": " + ssl_error());
    if (SSL_CTX_use_PrivateKey_file(ctx_->ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx_->ctx) != 1)
      throw std::runtime_error("key_file " + options_.key_file + ": " + ssl_error());
  }
  // Session resumption makes a reconnect after an idle close cheap.
  SSL_CTX_set_session_cache_mode(ctx_->ctx, SSL_SESS_CACHE_CLIENT);
}

HttpsClient::~HttpsClient() = default;

unsigned HttpsClient::connections_opened() const {
  std::lock_guard lk(mu_);
  return opened_;
}

std::unique_ptr<HttpsClient::Connection> HttpsClient::take() {
  std::lock_guard lk(mu_);
  if (idle_.empty()) return nullptr;
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void HttpsClient::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard lk(mu_);
  if (idle_.size() < options_.max_idle) idle_.push_back(std::move(c));
}

namespace {

// Function-local statics: an observer may be installed from another file's static initializer.
std::mutex& observer_mu() {
  static std::mutex mu;
  return mu;
}

ExchangeObserver& observer() {
  static ExchangeObserver o;
  return o;
}

void notify_observer(const std::string& method, const std::string& path, const HttpsReply& r) {
  std::lock_guard lk(observer_mu());
  if (observer()) observer()(method, path, r);
}

}  // namespace

void set_exchange_observer(ExchangeObserver o) {
  std::lock_guard lk(observer_mu());
  observer() = std::move(o);
}

HttpsReply HttpsClient::request(const std::string& method, const std::string& path,
                                const std::string& body, const std::string& content_type,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  const SigpipeGuard no_sigpipe;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + options_.server_name + "\r\n";
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  HttpsReply out;
  // A pooled connection may have been closed by the AG while idle: then once more on a new one,
  // when nothing at all came back. (Had the AG read the request and then died, the retry issues
  // another vector: one wasted and billed, never one used twice.)
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto c = attempt == 0 ? take() : nullptr;
    const bool pooled = c != nullptr;
    if (!c) {
      c = std::make_unique<Connection>();
      c->fd = tcp_connect(options_.host, options_.port, deadline, out.error);
      if (c->fd < 0) return out;
      c->ssl = SSL_new(ctx_->ctx);
      SSL_set_fd(c->ssl, c->fd);
      SSL_set_tlsext_host_name(c->ssl, options_.server_name.c_str());
      SSL_set1_host(c->ssl, options_.server_name.c_str());
      const int r = c->io([&] { return SSL_connect(c->ssl); }, deadline);
      if (r <= 0) {
        out.error = r == -2 ? "TLS handshake: timeout" : "TLS handshake: " + ssl_error();
        return out;
      }
      std::lock_guard lk(mu_);
      ++opened_;
    }
    if (c->io([&] { return SSL_write(c->ssl, req.data(), static_cast<int>(req.size())); },
              deadline) <= 0) {
      out.error = "write failed";
      if (pooled) continue;
      return out;
    }
    // Read the head, then Content-Length bytes.
    std::size_t head_end;
    bool closed = false, timed_out = false;
    char tmp[16384];
    while ((head_end = c->buf.find("\r\n\r\n")) == std::string::npos) {
      const int n = c->io([&] { return SSL_read(c->ssl, tmp, sizeof tmp); }, deadline);
      if (n <= 0) {
        closed = true;
        timed_out = n == -2;
        out.error = timed_out ? "read: timeout" : "connection closed";
        break;
      }
      c->buf.append(tmp, static_cast<std::size_t>(n));
    }
    if (closed) {
      // Closed before a byte of the answer: the AG dropped an idle connection; once more.
      if (pooled && c->buf.empty() && !timed_out) continue;
      return out;
    }
    const std::string head = c->buf.substr(0, head_end);
    c->buf.erase(0, head_end + 4);
    if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) {
      out.error = "malformed response";
      return out;
    }
    out.status = std::atoi(head.c_str() + 9);
    std::size_t len = 0;
    bool keep = true;
    for (std::size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      const auto next = head.find("\r\n", pos + 2);
      const std::string line =
          head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
      const auto colon = line.find(':');
      pos = next;
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      if (name == "content-length") len = std::strtoul(value.c_str(), nullptr, 10);
      if (name == "connection" && value.find("close") != std::string::npos) keep = false;
      out.headers[name] = value;
    }
    while (c->buf.size() < len) {
      const int n = c->io([&] { return SSL_read(c->ssl, tmp, sizeof tmp); }, deadline);
      if (n <= 0) {
        out.status = 0;
        out.error = "connection closed in the body";
        return out;
      }
      c->buf.append(tmp, static_cast<std::size_t>(n));
    }
    out.body = c->buf.substr(0, len);
    c->buf.erase(0, len);
    if (keep) give_back(std::move(c));
    notify_observer(method, path, out);
    return out;
  }
  return out;
}

}  // namespace oag::client
