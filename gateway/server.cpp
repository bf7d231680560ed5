// The only translation unit of oagd that includes Asio/Beast.
#include <utility>  // before Asio: Boost 1.74 coroutine bug

#include "gateway/server.hpp"

#include <openssl/x509v3.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

#include "gateway/api.hpp"
#include "gateway/log.hpp"
#include "gateway/peer_client.hpp"
#include "gateway/trust.hpp"

namespace oag::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<ssl::context> make_tls(const TlsListener& l) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  // TLS 1.2 only with forward-secret AEAD suites; TLS 1.3 suites are all acceptable.
  SSL_CTX_set_cipher_list(
      h,
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
      "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_options(h, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ctx->use_certificate_chain_file(l.cert);
  ctx->use_private_key_file(l.key, ssl::context::pem);
  ctx->load_verify_file(l.client_ca);
  SSL_CTX_set_client_CA_list(h, SSL_load_client_CA_file(l.client_ca.c_str()));
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

// The NAI a client certificate names: SAN URI sip:NAI, else the subject CN.
std::pair<std::string, std::string> identity_of(SSL* ssl_handle) {
  X509* cert = SSL_get0_peer_certificate(ssl_handle);
  if (cert == nullptr) return {};
  std::string nai;
  if (auto* sans = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && nai.empty(); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_URI) continue;
      const std::string uri(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
          static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
      if (uri.rfind("sip:", 0) == 0) nai = uri.substr(4);
    }
    GENERAL_NAMES_free(sans);
  }
  if (nai.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      nai = cn;
  }
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string serial(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  for (auto& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {nai, serial};
}

// Awaits a handler that replies from any thread; the reply resumes on `ex`.
template <typename Token>
auto async_api(asio::any_io_executor ex, std::function<void(Reply)> start, Token&& token) {
  return asio::async_initiate<Token, void(Response)>(
      [ex, start = std::move(start)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([ex, h](Response r) {
          asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      token);
}

// Built outside the coroutine: g++ 12 mis-copies init-captured objects of lambdas created in a
// coroutine body (a string's small buffer ended up pointing into the coroutine frame).
std::function<void(Reply)> dispatcher(Api& api, const std::string& listener, Request req) {
  auto shared = std::make_shared<Request>(std::move(req));
  const int which = listener == "ops" ? 0 : listener == "federation" ? 1 : 2;
  return [&api, which, shared](Reply reply) {
    if (which == 0)
      api.ops(std::move(*shared), std::move(reply));
    else if (which == 1)
      api.federation(std::move(*shared), std::move(reply));
    else
      api.endpoint(std::move(*shared), std::move(reply));
  };
}

// The federation listener's TLS: a client certificate is required, but which CA or pin it must
// match depends on the agreement, so the handshake accepts any and Api::federation decides.
std::shared_ptr<ssl::context> make_federation_tls(const TlsListener& l) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  SSL_CTX_set_options(h, SSL_OP_NO_RENEGOTIATION);
  ctx->use_certificate_chain_file(l.cert);
  ctx->use_private_key_file(l.key, ssl::context::pem);
  SSL_CTX_set_verify(h, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) { return 1; });
  return ctx;
}

CertChain peer_chain_of(SSL* s) {
  CertChain out;
  const auto add = [&out](X509* c) {
    unsigned char* der = nullptr;
    const int n = i2d_X509(c, &der);
    if (n > 0) out.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
  };
  if (X509* leaf = SSL_get0_peer_certificate(s)) add(leaf);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(s))
    for (int i = 0; i < sk_X509_num(chain); ++i)
      if (i > 0 || out.empty())
        add(sk_X509_value(chain, i));  // server side: the stack may repeat the leaf
  return out;
}

// https://host[:port] -> host, port
bool parse_url(const std::string& url, std::string& host, std::string& port) {
  if (url.rfind("https://", 0) != 0) return false;
  std::string rest = url.substr(8);
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    host = rest;
    port = "443";
  }
  return !host.empty() && !port.empty();
}

// The pooled keep-alive mTLS client to peer AGs (one pool per agreement).
class HttpsPeerClient final : public PeerClient {
 public:
  HttpsPeerClient(asio::io_context& ioc, const Config& cfg)
      : cfg_(cfg), strand_(asio::make_strand(ioc)) {}

  void post(const storage::Agreement& agreement, const std::string& path, std::string body,
            std::function<void(PeerReply)> done) override {
    asio::co_spawn(strand_, call(agreement, path, std::move(body)),
                   [done = std::move(done)](std::exception_ptr e, PeerReply r) {
                     if (e) {
                       r = {};
                       r.failure = PeerReply::Failure::protocol;
                       r.error = "client failure";
                     }
                     done(std::move(r));
                   });
  }

 private:
  using Stream = beast::ssl_stream<beast::tcp_stream>;

  std::shared_ptr<ssl::context> context_for(const storage::Agreement& a) {
    auto& c = contexts_[a.id];
    if (!c) {
      c = std::make_shared<ssl::context>(ssl::context::tls_client);
      SSL_CTX* h = c->native_handle();
      SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
      c->use_certificate_chain_file(cfg_.federation.cert);
      c->use_private_key_file(cfg_.federation.key, ssl::context::pem);
      // Trust is the agreement's (CA file or pin), checked after the handshake.
      SSL_CTX_set_verify(h, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    }
    return c;
  }

  awaitable<PeerReply> call(storage::Agreement a, std::string path, std::string body) {
    PeerReply out;
    std::string host, port;
    if (!parse_url(a.peer_url, host, port)) {
      out.failure = PeerReply::Failure::connect;
      out.error = "bad peer_url " + a.peer_url;
      co_return out;
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(cfg_.peers.total_timeout_ms);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Stream> s;
      auto& idle = pool_[a.id];
      if (attempt == 0 && !idle.empty()) {
        s = std::move(idle.back());
        idle.pop_back();
      } else {
        s = std::make_unique<Stream>(strand_, *context_for(a));
        auto& low = beast::get_lowest_layer(*s);
        const auto connect_deadline = std::min(
            deadline, Clock::now() + std::chrono::milliseconds(cfg_.peers.connect_timeout_ms));
        low.expires_at(connect_deadline);
        boost::system::error_code ec;
        tcp::resolver resolver(strand_);
        auto endpoints =
            co_await resolver.async_resolve(host, port, asio::redirect_error(use_awaitable, ec));
        if (!ec) co_await low.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          out.failure = PeerReply::Failure::connect;  // nobody there: unavailable
          out.error = ec.message();
          co_return out;
        }
        low.socket().set_option(tcp::no_delay(true), ec);  // small request/response: no Nagle delay
        SSL_set_tlsext_host_name(s->native_handle(), host.c_str());
        co_await s->async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(use_awaitable, ec));
        if (ec) {
          // Connected but no handshake in time: the peer stalls (504); otherwise it refused us.
          out.failure = ec == beast::error::timeout ? PeerReply::Failure::timeout
                                                    : PeerReply::Failure::connect;
          out.error = "TLS handshake: " + ec.message();
          co_return out;
        }
        X509* leaf = SSL_get0_peer_certificate(s->native_handle());
        const bool name_ok =
            leaf != nullptr && (X509_check_host(leaf, host.c_str(), host.size(), 0, nullptr) == 1 ||
                                X509_check_ip_asc(leaf, host.c_str(), 0) == 1);
        if (!name_ok || !peer_trusted(a, peer_chain_of(s->native_handle()), true)) {
          out.failure = PeerReply::Failure::connect;
          out.error = name_ok ? "peer certificate not trusted by agreement " + a.id
                              : "peer certificate does not name " + host;
          co_return out;
        }
      }
      auto& low = beast::get_lowest_layer(*s);
      low.expires_at(deadline);
      http::request<http::string_body> req{http::verb::post, path, 11};
      req.set(http::field::host, host);
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
      boost::system::error_code ec;
      co_await http::async_write(*s, req, asio::redirect_error(use_awaitable, ec));
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      if (!ec) co_await http::async_read(*s, buf, res, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == beast::error::timeout || Clock::now() >= deadline) {
          out.failure = PeerReply::Failure::timeout;
          out.error = ec.message();
          co_return out;
        }
        // Lost before the answer: once more on a fresh connection, same request_id (the peer
        // answers a repeat from what it stored, and bills nothing twice).
        out.failure = PeerReply::Failure::protocol;
        out.error = ec.message();
        continue;
      }
      out = {};
      out.status = res.result_int();
      out.body = std::move(res.body());
      out.retry_after = std::string(res[http::field::retry_after]);
      if (res.keep_alive()) pool_[a.id].push_back(std::move(s));
      co_return out;
    }
    co_return out;
  }

  const Config& cfg_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::map<std::string, std::shared_ptr<ssl::context>> contexts_;     // strand only
  std::map<std::string, std::vector<std::unique_ptr<Stream>>> pool_;  // strand only
};

}  // namespace

struct Server::Impl {
  Impl(const Config& c, storage::Backend& store, Metrics& m)
      : cfg(c),
        metrics(m),
        ioc(static_cast<int>(c.io_threads)),
        store_pool(c.store_threads),
        api(cfg, store, m,
            [this](std::function<void()> fn) { asio::post(store_pool, std::move(fn)); }),
        endpoint_acceptor(ioc),
        federation_acceptor(ioc),
        ops_acceptor(ioc),
        signals(ioc, SIGTERM, SIGINT, SIGHUP) {
    tls = make_tls(cfg.endpoint);
    limits = std::make_shared<Limits>(cfg.limits);
    bind(endpoint_acceptor, cfg.endpoint.address, cfg.endpoint.port, "listeners.endpoint");
    if (cfg.federation_enabled) {
      fed_tls = make_federation_tls(cfg.federation);
      bind(federation_acceptor, cfg.federation.address, cfg.federation.port,
           "listeners.federation");
      peer_client = std::make_unique<HttpsPeerClient>(ioc, cfg);
      api.set_peer_client(peer_client.get());
    }
    if (cfg.ops.enabled) bind(ops_acceptor, cfg.ops.address, cfg.ops.port, "listeners.ops");
  }

  static void bind(tcp::acceptor& a, const std::string& address, std::uint16_t port,
                   const std::string& path) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(address, ec);
    if (ec) throw ConfigError(path + ".address: not an IP address: " + address);
    tcp::endpoint ep(addr, port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep, ec);
    if (ec)
      throw ConfigError(path + ": cannot bind " + address + ":" + std::to_string(port) + ": " +
                        ec.message());
    a.listen(asio::socket_base::max_listen_connections);
  }

  std::shared_ptr<ssl::context> current_tls() {
    std::lock_guard lk(mu);
    return tls;
  }
  std::shared_ptr<ssl::context> current_fed_tls() {
    std::lock_guard lk(mu);
    return fed_tls;
  }
  std::shared_ptr<const Limits> current_limits() {
    std::lock_guard lk(mu);
    return limits;
  }

  // --- connections ---

  struct Conn {
    asio::any_io_executor ex;      // the connection's strand
    std::function<void()> cancel;  // run only on `ex`
  };

  // Cancels every connection's pending socket operation, each on its own strand.
  void cancel_all() {
    std::lock_guard lk(mu);
    for (auto& w : conns)
      if (auto c = w.lock())
        asio::post(c->ex, [w] {
          if (auto live = w.lock()) live->cancel();
        });
  }

  std::list<std::weak_ptr<Conn>>::iterator enroll(const std::shared_ptr<Conn>& c) {
    std::lock_guard lk(mu);
    return conns.insert(conns.end(), c);
  }
  void leave(std::list<std::weak_ptr<Conn>>::iterator it) {
    std::lock_guard lk(mu);
    conns.erase(it);
  }

  template <typename Stream>
  awaitable<void> serve(Stream& stream, const std::string& listener, const std::string& identity,
                        const std::string& serial, CertChain chain = {}) {
    beast::flat_buffer buf;
    bool first = true;
    auto authorized_until = std::make_shared<std::atomic<std::int64_t>>(0);
    auto trust_cache = chain.empty() ? nullptr : std::make_shared<TrustCache>();
    for (;;) {
      const auto lim = current_limits();
      http::request_parser<http::string_body> parser;
      parser.header_limit(lim->header_bytes);
      parser.body_limit(lim->body_bytes);
      auto& lowest = beast::get_lowest_layer(stream);
      lowest.expires_after(
          std::chrono::milliseconds(first ? lim->header_timeout_ms : lim->idle_timeout_ms));
      first = false;
      boost::system::error_code ec;
      co_await http::async_read_header(stream, buf, parser,
                                       asio::redirect_error(use_awaitable, ec));
      if (!ec) {
        lowest.expires_after(std::chrono::milliseconds(lim->header_timeout_ms));
        co_await http::async_read(stream, buf, parser, asio::redirect_error(use_awaitable, ec));
      }
      const auto t0 = Clock::now();
      Response res;
      bool close = false;
      if (ec == http::error::body_limit) {
        res = Api::problem({413, "body-too-large", "The body is too large",
                            "body: at most " + std::to_string(lim->body_bytes) + " bytes"},
                           "other");
        close = true;
      } else if (ec == http::error::header_limit) {
        res = Api::problem({431, "headers-too-large", "The request headers are too large",
                            "headers: at most " + std::to_string(lim->header_bytes) + " bytes"},
                           "other");
        close = true;
      } else if (ec && ec != http::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::operation_aborted &&
                 ec != asio::ssl::error::stream_truncated && ec != asio::error::connection_reset) {
        res = Api::problem(
            {400, "bad-request", "The request is not valid HTTP/1.1", "http: " + ec.message()},
            "other");
        close = true;
      } else if (ec) {
        co_return;  // the client left, idled out, or we are draining
      } else {
        auto& msg = parser.get();
        Request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        req.content_type = std::string(msg[http::field::content_type]);
        req.body = std::move(msg.body());
        req.identity = identity;
        req.cert_serial = serial;
        req.authorized_until = authorized_until;
        req.peer_chain = chain;
        req.trust_cache = trust_cache;
        close = !msg.keep_alive();
        res = co_await async_api(stream.get_executor(), dispatcher(api, listener, std::move(req)),
                                 use_awaitable);
      }
      if (draining) close = true;
      http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
      out.set(http::field::server, "oagd");
      if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
      out.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : res.headers) out.set(k, v);
      out.body() = std::move(res.body);
      out.keep_alive(!close);
      out.prepare_payload();
      lowest.expires_after(std::chrono::milliseconds(lim->header_timeout_ms));
      boost::system::error_code wec;
      co_await http::async_write(stream, out, asio::redirect_error(use_awaitable, wec));
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      metrics.request(listener, res.route, res.status, secs);
      if (listener != "ops" && log::enabled_info()) {
        log::info(log::event::kAccess, "request",
                  {{"requester", identity},
                   {"route", res.route},
                   {"status", std::to_string(res.status)},
                   {"latency_ms", std::to_string(secs * 1000)},
                   {"vectors", std::to_string(res.vectors)}});
      }
      if (!res.internal.empty())
        log::error(log::event::kStoreError, "store failure", {{"detail", res.internal}});
      if (wec || close) co_return;
    }
  }

  awaitable<void> tls_session(tcp::socket socket, bool federation) {
    const std::string name = federation ? "federation" : "endpoint";
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)),
                                                federation ? *current_fed_tls() : *current_tls());
    auto conn = std::make_shared<Conn>();
    conn->ex = stream.get_executor();
    conn->cancel = [&stream] { beast::get_lowest_layer(stream).socket().cancel(); };
    const auto it = enroll(conn);
    metrics.connection(name, +1);
    const auto lim = current_limits();
    beast::get_lowest_layer(stream).expires_after(
        std::chrono::milliseconds(lim->handshake_timeout_ms));
    boost::system::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(use_awaitable, ec));
    if (ec) {
      metrics.handshake_failure(name);
      log::debug(log::event::kHandshakeFailed, "TLS handshake failed",
                 {{"listener", name}, {"error", ec.message()}});
    } else if (federation) {
      co_await serve(stream, name, "", "", peer_chain_of(stream.native_handle()));
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(500));
      co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
    } else {
      const auto [nai, serial] = identity_of(stream.native_handle());
      co_await serve(stream, "endpoint", nai, serial);
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(500));
      co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }
    metrics.connection(name, -1);
    leave(it);
  }

  awaitable<void> ops_session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto conn = std::make_shared<Conn>();
    conn->ex = stream.get_executor();
    conn->cancel = [&stream] { stream.socket().cancel(); };
    const auto it = enroll(conn);
    metrics.connection("ops", +1);
    co_await serve(stream, "ops", "", "");
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    metrics.connection("ops", -1);
    leave(it);
  }

  awaitable<void> accept_loop(tcp::acceptor& acceptor,
                              int kind) {  // 0 endpoint, 1 federation, 2 ops
    const std::string name = kind == 0 ? "endpoint" : kind == 1 ? "federation" : "ops";
    const bool tls_listener = kind != 2;
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                          asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || draining) co_return;
        continue;  // EMFILE and friends: try again
      }
      if (metrics.open_connections(name) >= static_cast<long>(current_limits()->max_connections)) {
        log::warn(log::event::kConnectionRefused, "connection limit reached", {{"listener", name}});
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto ex = socket.get_executor();
      if (tls_listener)
        asio::co_spawn(ex, tls_session(std::move(socket), kind == 1), asio::detached);
      else
        asio::co_spawn(ex, ops_session(std::move(socket)), asio::detached);
    }
  }

  // --- signals ---

  void on_signal(const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals.async_wait([this](auto e, int s) { on_signal(e, s); });
      return;
    }
    log::info(log::event::kStopping, "draining", {{"signal", std::to_string(sig)}});
    draining = true;
    boost::system::error_code ignored;
    endpoint_acceptor.close(ignored);
    federation_acceptor.close(ignored);
    ops_acceptor.close(ignored);
    // Idle keep-alive connections wake up and close; requests in flight finish first (their
    // socket is not in a read), then see `draining` and close after the response.
    cancel_all();
    wait_drained();
  }

  void wait_drained() {
    auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(20));
    timer->async_wait([this, timer](auto) {
      bool empty;
      {
        std::lock_guard lk(mu);
        empty = conns.empty();
      }
      if (empty) {
        ioc.stop();
      } else {
        cancel_all();  // a connection that was mid-handshake or mid-read when draining began
        wait_drained();
      }
    });
  }

  void reload() {
    try {
      Config next = load_config(cfg.file);
      check_config(next);
      auto next_tls = make_tls(next.endpoint);
      auto next_fed = next.federation_enabled && cfg.federation_enabled
                          ? make_federation_tls(next.federation)
                          : fed_tls;
      {
        std::lock_guard lk(mu);
        tls = next_tls;
        fed_tls = next_fed;
        limits = std::make_shared<Limits>(next.limits);
      }
      log::setup(next.log_level, next.log_json);
      log::info(log::event::kReloaded, "configuration reloaded", {{"file", cfg.file}});
    } catch (const std::exception& e) {
      log::error(log::event::kReloadFailed, "reload failed; keeping the running configuration",
                 {{"error", e.what()}});
    }
  }

  void run() {
    signals.async_wait([this](auto e, int s) { on_signal(e, s); });
    asio::co_spawn(ioc, accept_loop(endpoint_acceptor, 0), asio::detached);
    if (cfg.federation_enabled)
      asio::co_spawn(ioc, accept_loop(federation_acceptor, 1), asio::detached);
    if (cfg.ops.enabled) asio::co_spawn(ioc, accept_loop(ops_acceptor, 2), asio::detached);
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < cfg.io_threads; ++i) extra.emplace_back([this] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    store_pool.join();
  }

  const Config& cfg;
  Metrics& metrics;
  asio::io_context ioc;
  asio::thread_pool store_pool;
  Api api;
  tcp::acceptor endpoint_acceptor;
  tcp::acceptor federation_acceptor;
  tcp::acceptor ops_acceptor;
  std::unique_ptr<HttpsPeerClient> peer_client;
  asio::signal_set signals;
  std::mutex mu;
  std::shared_ptr<ssl::context> tls;
  std::shared_ptr<ssl::context> fed_tls;
  std::shared_ptr<const Limits> limits;
  std::list<std::weak_ptr<Conn>> conns;
  std::atomic<bool> draining{false};
};

Server::Server(const Config& cfg, storage::Backend& store, Metrics& metrics)
    : impl_(std::make_unique<Impl>(cfg, store, metrics)) {}

Server::~Server() = default;

std::uint16_t Server::endpoint_port() const {
  return impl_->endpoint_acceptor.local_endpoint().port();
}

std::uint16_t Server::federation_port() const {
  return impl_->cfg.federation_enabled ? impl_->federation_acceptor.local_endpoint().port() : 0;
}

std::uint16_t Server::ops_port() const {
  return impl_->cfg.ops.enabled ? impl_->ops_acceptor.local_endpoint().port() : 0;
}

void Server::run() {
  impl_->run();
}

}  // namespace oag::gateway
