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
#include <ctime>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/auth.hpp"
#include "gateway/fd_limit.hpp"
#include "gateway/log.hpp"
#include "gateway/notify.hpp"
#include "gateway/peer_client.hpp"
#include "gateway/problems.hpp"
#include "gateway/roaming/session_auth.hpp"
#include "gateway/routes.hpp"
#include "gateway/trust.hpp"
#include "proto/pki/x509.hpp"

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
using Ms = std::chrono::milliseconds;

// Every TLS listener offers the same protocols: TLS 1.3, and TLS 1.2 only with forward-secret
// AEAD suites (TLS 1.3 suites are all acceptable).
std::shared_ptr<ssl::context> server_context(const config::TlsListener& l) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(
      h,
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
      "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_options(h, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ctx->use_certificate_chain_file(l.cert);
  ctx->use_private_key_file(l.key, ssl::context::pem);
  return ctx;
}

// Endpoint: a client certificate of our endpoint CA is required in the handshake.
std::shared_ptr<ssl::context> endpoint_context(const config::TlsListener& l,
                                               const std::string& issuing_ca) {
  auto ctx = server_context(l);
  ctx->load_verify_file(l.client_ca);
  // Certificates our issuing CA signed chain through it to the endpoint CA, also when the client
  // sends its leaf alone.
  if (!issuing_ca.empty()) ctx->load_verify_file(issuing_ca);
  prime_ca_certificates(SSL_CTX_get_cert_store(ctx->native_handle()));  // io threads share it
  SSL_CTX_set_client_CA_list(ctx->native_handle(), SSL_load_client_CA_file(l.client_ca.c_str()));
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

// Federation: a client certificate is required, but which CA or pin it must match depends on
// the agreement, so the handshake accepts any and the peer authenticator decides.
std::shared_ptr<ssl::context> federation_context(const config::TlsListener& l) {
  auto ctx = server_context(l);
  SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) { return 1; });
  return ctx;
}

// Visitor: server authentication only; no client certificate is requested.
std::shared_ptr<ssl::context> visitor_context(const config::TlsListener& l) {
  auto ctx = server_context(l);
  ctx->set_verify_mode(ssl::verify_none);
  return ctx;
}

// The server contexts of one configuration snapshot.
struct TlsContexts {
  std::shared_ptr<ssl::context> endpoint, federation, visitor;
};

TlsContexts make_contexts(const config::Config& c) {
  TlsContexts t;
  t.endpoint = endpoint_context(c.endpoint, c.pki.issuing_ca_cert);
  if (c.federation_enabled) t.federation = federation_context(c.federation);
  if (c.visitor.enabled) t.visitor = visitor_context(c.visitor);
  return t;
}

// Awaits a dispatch that replies from any thread, or its deadline: the first of the two
// resumes the coroutine on `ex`; a reply after the deadline is dropped (Reply answers once).
template <typename Token>
auto async_dispatch(asio::any_io_executor ex, std::function<void(Reply)> start, unsigned timeout_ms,
                    Token&& token) {
  return asio::async_initiate<Token, void(Response)>(
      [ex, start = std::move(start), timeout_ms](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto timer = std::make_shared<asio::steady_timer>(ex, Ms(timeout_ms));
        Reply reply([ex, h, timer](Response r) {
          asio::post(ex, [h, timer, r = std::move(r)]() mutable {
            timer->cancel();
            (*h)(std::move(r));
          });
        });
        timer->async_wait([reply, timeout_ms](const boost::system::error_code& ec) {
          if (ec) return;  // cancelled: answered in time
          Response r = problem({503, "handler-timeout", "The request took too long",
                                "the gateway gave up after " + std::to_string(timeout_ms) + " ms"},
                               "other");
          r.close = true;
          r.internal = "handler missed its deadline of " + std::to_string(timeout_ms) + " ms";
          r.internal_event = log::event::kHandlerTimeout;
          reply(std::move(r));
        });
        run_guarded(reply, "other", [&] { start(reply); });
      },
      token);
}

// Built outside the coroutine: g++ 12 mis-copies init-captured objects of lambdas created in a
// coroutine body (a string's small buffer ended up pointing into the coroutine frame).
std::function<void(Reply)> dispatcher(const Router& router, Listener listener, Request req) {
  auto shared = std::make_shared<Request>(std::move(req));
  return [&router, listener, shared](Reply reply) {
    router.dispatch(listener, std::move(*shared), std::move(reply));
  };
}

// Logs an exception that left a connection's coroutine (the connection is gone; the process
// and every other connection go on).
auto session_done(Listener l) {
  return [l](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error(log::event::kInternalError, "connection failed",
                 {{"listener", to_string(l)}, {"error", ex.what()}});
    } catch (...) {
      log::error(log::event::kInternalError, "connection failed", {{"listener", to_string(l)}});
    }
  };
}

std::string remote_address_of(const tcp::socket& s) {
  boost::system::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

CertChain peer_chain_of(SSL* s) {
  CertChain out;
  if (X509* leaf = SSL_get0_peer_certificate(s)) out.push_back(pki::to_der(leaf));
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(s))
    for (int i = 0; i < sk_X509_num(chain); ++i)
      if (i > 0 || out.empty())
        out.push_back(pki::to_der(sk_X509_value(chain, i)));  // server side: may repeat the leaf
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

// The pooled keep-alive mTLS client to peer AGs (one pool per agreement). It presents the
// federation certificate of the configuration in force: after a reload it builds new contexts
// and drops the pooled connections made with the old certificate.
class HttpsPeerClient final : public PeerClient {
 public:
  HttpsPeerClient(asio::io_context& ioc, const Runtime& runtime, Metrics& metrics)
      : runtime_(runtime), metrics_(metrics), strand_(asio::make_strand(ioc)) {}

  void post(const storage::Agreement& agreement, const std::string& path, std::string body,
            std::function<void(PeerReply)> done) override {
    start(agreement, http::verb::post, path, std::move(body), std::move(done));
  }
  void get(const storage::Agreement& agreement, const std::string& path,
           std::function<void(PeerReply)> done) override {
    start(agreement, http::verb::get, path, {}, std::move(done));
  }

 private:
  void start(const storage::Agreement& agreement, http::verb verb, const std::string& path,
             std::string body, std::function<void(PeerReply)> done) {
    asio::co_spawn(strand_, call(agreement, verb, path, std::move(body)),
                   [this, id = agreement.id, t0 = Clock::now(), done = std::move(done)](
                       std::exception_ptr e, PeerReply r) {
                     if (e) {
                       r = {};
                       r.failure = PeerReply::Failure::protocol;
                       r.error = "client failure";
                     }
                     metrics_.peer_call(id, outcome_of(r),
                                        std::chrono::duration<double>(Clock::now() - t0).count());
                     done(std::move(r));
                   });
  }

  using Stream = beast::ssl_stream<beast::tcp_stream>;

  static const char* outcome_of(const PeerReply& r) {
    switch (r.failure) {
      case PeerReply::Failure::connect:
        return "connect";
      case PeerReply::Failure::timeout:
        return "timeout";
      case PeerReply::Failure::protocol:
        return "protocol";
      case PeerReply::Failure::none:
        break;
    }
    return r.status < 300 ? "ok" : r.status < 500 ? "refused" : "error";
  }

  // On the strand: the snapshot to use, after forgetting what an older one made.
  std::shared_ptr<const config::Config> snapshot() {
    const auto gen = runtime_.generation();
    if (gen != generation_) {
      contexts_.clear();
      pool_.clear();
      generation_ = gen;
    }
    return runtime_.get();
  }

  std::shared_ptr<ssl::context> context_for(const storage::Agreement& a,
                                            const config::Config& cfg) {
    auto& c = contexts_[a.id];
    if (!c) {
      c = std::make_shared<ssl::context>(ssl::context::tls_client);
      SSL_CTX* h = c->native_handle();
      SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
      c->use_certificate_chain_file(cfg.federation.cert);
      c->use_private_key_file(cfg.federation.key, ssl::context::pem);
      // Trust is the agreement's (CA file or pin), checked after the handshake.
      SSL_CTX_set_verify(h, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    }
    return c;
  }

  awaitable<PeerReply> call(storage::Agreement a, http::verb verb, std::string path,
                            std::string body) {
    PeerReply out;
    std::string host, port;
    if (!parse_url(a.peer_url, host, port)) {
      out.failure = PeerReply::Failure::connect;
      out.error = "bad peer_url " + a.peer_url;
      co_return out;
    }
    const auto cfg = snapshot();
    const auto deadline = Clock::now() + Ms(cfg->peers.total_timeout_ms);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Stream> s;
      auto& idle = pool_[a.id];
      if (attempt == 0 && !idle.empty()) {
        s = std::move(idle.back());
        idle.pop_back();
      } else {
        s = std::make_unique<Stream>(strand_, *context_for(a, *cfg));
        auto& low = beast::get_lowest_layer(*s);
        const auto connect_deadline =
            std::min(deadline, Clock::now() + Ms(cfg->peers.connect_timeout_ms));
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
      http::request<http::string_body> req{verb, path, 11};
      req.set(http::field::host, host);
      if (verb != http::verb::get) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
      }
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
      if (res.keep_alive() && runtime_.generation() == generation_)
        pool_[a.id].push_back(std::move(s));
      co_return out;
    }
    co_return out;
  }

  const Runtime& runtime_;
  Metrics& metrics_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::uint64_t generation_ = 0;                                      // strand only
  std::map<std::string, std::shared_ptr<ssl::context>> contexts_;     // strand only
  std::map<std::string, std::vector<std::unique_ptr<Stream>>> pool_;  // strand only
};

constexpr Listener kListeners[] = {Listener::endpoint, Listener::federation, Listener::visitor,
                                   Listener::ops};

}  // namespace

struct Server::Impl {
  Impl(const config::Config& c, storage::Backend& store,
       std::shared_ptr<const storage::MasterKey> key, Metrics& m, const RouteHook& hook)
      : runtime(c),
        metrics(m),
        ioc(static_cast<int>(c.io_threads)),
        lookup_pool(c.store_threads),
        write_pool(1),
        services{store,
                 m,
                 runtime,
                 [this](Lane lane, std::function<void()> fn) {
                   asio::post(lane == Lane::lookup ? lookup_pool : write_pool, std::move(fn));
                 },
                 nullptr,
                 nullptr,
                 wall_ms,
                 std::move(key),
                 {}},
        signals(ioc, SIGTERM, SIGINT, SIGHUP) {
    const auto cfg = runtime.get();
    tls = make_contexts(*cfg);
    if (cfg->federation_enabled) {
      peer_client = std::make_unique<HttpsPeerClient>(ioc, runtime, metrics);
      services.peers = peer_client.get();
    }
    if (!cfg->pki.issuing_ca_cert.empty())
      services.cert_issuer =
          std::make_shared<CertIssuer>(cfg->pki.issuing_ca_cert, cfg->pki.issuing_ca_key);
    routes = std::make_unique<Routes>(services);
    auto table = routes->table();
    if (hook) hook(table, services);
    router = std::make_unique<Router>(
        std::move(table),
        std::map<Auth, std::shared_ptr<Authenticator>>{
            {Auth::endpoint_subscriber, std::make_shared<EndpointAuthenticator>(services)},
            {Auth::federation_peer, std::make_shared<PeerAuthenticator>(services)},
            {Auth::visitor_session, std::make_shared<roaming::SessionAuthenticator>(services)}});
    for (const Listener l : kListeners) acceptors.emplace(l, tcp::acceptor(ioc));
    bind(Listener::endpoint, cfg->endpoint.address, cfg->endpoint.port);
    if (cfg->federation_enabled)
      bind(Listener::federation, cfg->federation.address, cfg->federation.port);
    if (cfg->visitor.enabled) bind(Listener::visitor, cfg->visitor.address, cfg->visitor.port);
    if (cfg->ops.enabled) bind(Listener::ops, cfg->ops.address, cfg->ops.port);
  }

  void bind(Listener l, const std::string& address, std::uint16_t port) {
    const std::string path = std::string("listeners.") + to_string(l);
    auto& a = acceptors.at(l);
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(address, ec);
    if (ec) throw config::ConfigError(path + ".address: not an IP address: " + address);
    tcp::endpoint ep(addr, port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep, ec);
    if (ec)
      throw config::ConfigError(path + ": cannot bind " + address + ":" + std::to_string(port) +
                                ": " + ec.message());
    a.listen(asio::socket_base::max_listen_connections);
    bound.insert(l);
  }

  std::shared_ptr<ssl::context> context_for(Listener l) {
    std::lock_guard lk(mu);
    return l == Listener::endpoint     ? tls.endpoint
           : l == Listener::federation ? tls.federation
                                       : tls.visitor;
  }

  // --- connections ---

  struct Conn {
    asio::any_io_executor ex;      // the connection's strand
    std::function<void()> cancel;  // run only on `ex`
  };

  // A connection's place in the drain list and the open-connections gauge, for exactly as long
  // as the connection lives, however its coroutine ends (an exception included).
  class Slot {
   public:
    Slot(Impl& impl, Listener l, std::shared_ptr<Conn> c) : impl_(impl), l_(l) {
      std::lock_guard lk(impl_.mu);
      it_ = impl_.conns.insert(impl_.conns.end(), std::move(c));
      impl_.metrics.connection(l_, +1);
    }
    ~Slot() {
      std::lock_guard lk(impl_.mu);
      impl_.metrics.connection(l_, -1);
      impl_.conns.erase(it_);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    Impl& impl_;
    Listener l_;
    std::list<std::shared_ptr<Conn>>::iterator it_;
  };

  // Cancels every connection's pending socket operation, each on its own strand.
  void cancel_all() {
    std::lock_guard lk(mu);
    for (auto& c : conns) {
      std::weak_ptr<Conn> w = c;
      asio::post(c->ex, [w] {
        if (auto live = w.lock()) live->cancel();
      });
    }
  }

  template <typename Stream>
  awaitable<void> serve(Stream& stream, std::shared_ptr<Connection> conn) {
    const Listener listener = conn->listener;
    beast::flat_buffer buf;
    bool first = true;
    for (;;) {
      const auto cfg = runtime.get();
      const auto& lim = cfg->limits;
      http::request_parser<http::string_body> parser;
      parser.header_limit(lim.header_bytes);
      parser.body_limit(lim.body_bytes);
      auto& lowest = beast::get_lowest_layer(stream);
      lowest.expires_after(Ms(first ? lim.header_timeout_ms : lim.idle_timeout_ms));
      first = false;
      boost::system::error_code ec;
      co_await http::async_read_header(stream, buf, parser,
                                       asio::redirect_error(use_awaitable, ec));
      if (!ec) {
        lowest.expires_after(Ms(lim.header_timeout_ms));
        co_await http::async_read(stream, buf, parser, asio::redirect_error(use_awaitable, ec));
      }
      const auto t0 = Clock::now();
      Response res;
      bool close = false;
      // Gate 1, transport limits: a request too large or not HTTP never reaches the router.
      if (ec == http::error::body_limit) {
        res = problem({413, "body-too-large", "The body is too large",
                       "body: at most " + std::to_string(lim.body_bytes) + " bytes"},
                      "other");
        close = true;
      } else if (ec == http::error::header_limit) {
        res = problem({431, "headers-too-large", "The request headers are too large",
                       "headers: at most " + std::to_string(lim.header_bytes) + " bytes"},
                      "other");
        close = true;
      } else if (ec && ec != http::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::operation_aborted &&
                 ec != asio::ssl::error::stream_truncated && ec != asio::error::connection_reset) {
        res = problem(
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
        req.authorization = std::string(msg[http::field::authorization]);
        req.body = std::move(msg.body());
        req.conn = conn;
        close = !msg.keep_alive();
        res = co_await async_dispatch(stream.get_executor(),
                                      dispatcher(*router, listener, std::move(req)),
                                      lim.handler_timeout_ms, use_awaitable);
      }
      if (draining || res.close) close = true;
      http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
      out.set(http::field::server, "oagd");
      if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
      out.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : res.headers) out.set(k, v);
      out.body() = std::move(res.body);
      out.keep_alive(!close);
      out.prepare_payload();
      lowest.expires_after(Ms(lim.header_timeout_ms));
      boost::system::error_code wec;
      co_await http::async_write(stream, out, asio::redirect_error(use_awaitable, wec));
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      metrics.request(listener, res.route, res.status, secs);
      if (const auto level = listener == Listener::ops ? std::nullopt : log::access_level()) {
        log::at(*level, log::event::kAccess, "request",
                {{"listener", to_string(listener)},
                 {"client", conn->remote_address},
                 {"requester", conn->cert_nai},
                 {"route", res.route},
                 {"status", std::to_string(res.status)},
                 {"latency_ms", std::to_string(secs * 1000)},
                 {"vectors", std::to_string(res.vectors)}});
      }
      if (!res.internal.empty()) {
        const char* event = res.internal_event ? res.internal_event : log::event::kInternalError;
        if (event == log::event::kHandlerTimeout) metrics.handler_timeout(listener);
        log::error(event, "request failed", {{"route", res.route}, {"detail", res.internal}});
      }
      if (wec || close) co_return;
    }
  }

  awaitable<void> tls_session(tcp::socket socket, Listener l) {
    const auto ctx = context_for(l);
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ctx);
    auto c = std::make_shared<Conn>();
    c->ex = stream.get_executor();
    c->cancel = [&stream] { beast::get_lowest_layer(stream).socket().cancel(); };
    Slot slot(*this, l, c);
    beast::get_lowest_layer(stream).expires_after(Ms(runtime.get()->limits.handshake_timeout_ms));
    boost::system::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(use_awaitable, ec));
    if (ec) {
      metrics.handshake_failure(l);
      log::debug(log::event::kHandshakeFailed, "TLS handshake failed",
                 {{"listener", to_string(l)}, {"error", ec.message()}});
      co_return;
    }
    auto conn = std::make_shared<Connection>();
    conn->listener = l;
    conn->remote_address = remote_address_of(beast::get_lowest_layer(stream).socket());
    if (l == Listener::federation) {
      conn->peer_chain = peer_chain_of(stream.native_handle());
      conn->trust_cache = std::make_shared<TrustCache>();
    } else if (l == Listener::endpoint) {
      if (X509* cert = SSL_get0_peer_certificate(stream.native_handle())) {
        conn->cert_nai = pki::subject_nai(cert);
        conn->cert_serial = pki::serial_hex(cert);
      }
    }
    co_await serve(stream, std::move(conn));
    beast::get_lowest_layer(stream).expires_after(Ms(500));
    co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
  }

  awaitable<void> ops_session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto c = std::make_shared<Conn>();
    c->ex = stream.get_executor();
    c->cancel = [&stream] { stream.socket().cancel(); };
    Slot slot(*this, Listener::ops, c);
    auto conn = std::make_shared<Connection>();
    conn->listener = Listener::ops;
    conn->remote_address = remote_address_of(stream.socket());
    co_await serve(stream, std::move(conn));
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  awaitable<void> accept_loop(Listener l) {
    auto& acceptor = acceptors.at(l);
    // One warning a second at most, with what happened since: a flood of connections must not
    // become a flood of log lines.
    auto last_warned = std::chrono::steady_clock::time_point{};
    std::uint64_t refused = 0;
    const auto warn = [&](const char* message, const std::string& error) {
      const auto now = std::chrono::steady_clock::now();
      ++refused;
      if (now - last_warned < std::chrono::seconds(1)) return;
      log::warn(log::event::kConnectionRefused, message,
                {{"listener", to_string(l)},
                 {"refused", std::to_string(refused)},
                 {"limit", std::to_string(runtime.get()->limits.max_connections)},
                 {"error", error}});
      last_warned = now;
      refused = 0;
    };
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                          asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || draining) co_return;
        // EMFILE and friends: the connection waits in the backlog; retrying at once would spin.
        warn("cannot accept a connection", ec.message());
        asio::steady_timer pause(ioc, std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      if (metrics.open_connections(l) >= static_cast<long>(runtime.get()->limits.max_connections)) {
        metrics.connection_refused(l);
        warn("connection limit reached", "");
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto ex = socket.get_executor();
      if (l == Listener::ops)
        asio::co_spawn(ex, ops_session(std::move(socket)), session_done(l));
      else
        asio::co_spawn(ex, tls_session(std::move(socket), l), session_done(l));
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
    notify::stopping();
    draining = true;
    boost::system::error_code ignored;
    for (auto& [l, a] : acceptors) a.close(ignored);
    // Idle keep-alive connections wake up and close; requests in flight finish first (their
    // socket is not in a read), then see `draining` and close after the response (at the
    // latest at their handler deadline).
    cancel_all();
    wait_drained();
  }

  void wait_drained() {
    auto timer = std::make_shared<asio::steady_timer>(ioc, Ms(20));
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

  // SIGHUP: a new snapshot (limits, logging, certificates in and out, breaker settings), or the
  // old one kept whole if anything in the file is wrong.
  void reload() {
    notify::reloading();
    // READY again whatever the outcome: a failed reload keeps serving the running configuration.
    struct Ready {
      std::string realm;
      ~Ready() { notify::ready("serving " + realm); }
    } ready_after{runtime.get()->realm};
    const auto running = runtime.get();
    try {
      auto next = std::make_shared<config::Config>(config::load_config(running->file));
      const std::string held = config::hold_restart_only(*running, *next);
      config::check_config(*next);
      if (const auto short_of = raise_fd_limit(*next)) throw config::ConfigError(*short_of);
      auto contexts = make_contexts(*next);
      {
        std::lock_guard lk(mu);
        tls = std::move(contexts);
      }
      runtime.set(next);
      log::setup(*next);
      metrics.reload(true, std::time(nullptr));
      if (!held.empty())
        log::warn(log::event::kReloadPartial, "these settings take effect at the next start",
                  {{"settings", held}});
      log::info(log::event::kReloaded, "configuration reloaded", {{"file", running->file}});
    } catch (const std::exception& e) {
      metrics.reload(false, std::time(nullptr));
      log::error(log::event::kReloadFailed, "reload failed; keeping the running configuration",
                 {{"error", e.what()}});
    }
  }

  void run() {
    signals.async_wait([this](auto e, int s) { on_signal(e, s); });
    for (const Listener l : kListeners)
      if (bound.count(l)) asio::co_spawn(ioc, accept_loop(l), session_done(l));
    std::vector<std::thread> extra;
    const unsigned threads = runtime.get()->io_threads;
    for (unsigned i = 1; i < threads; ++i) extra.emplace_back([this] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    lookup_pool.join();
    write_pool.join();
  }

  Runtime runtime;
  Metrics& metrics;
  asio::io_context ioc;
  asio::thread_pool lookup_pool;
  asio::thread_pool write_pool;
  Services services;
  std::unique_ptr<HttpsPeerClient> peer_client;
  std::unique_ptr<Routes> routes;
  std::unique_ptr<Router> router;
  std::map<Listener, tcp::acceptor> acceptors;
  std::set<Listener> bound;
  asio::signal_set signals;
  std::mutex mu;
  TlsContexts tls;
  std::list<std::shared_ptr<Conn>> conns;
  std::atomic<bool> draining{false};
};

Server::Server(const config::Config& cfg, storage::Backend& store,
               std::shared_ptr<const storage::MasterKey> master_key, Metrics& metrics,
               const RouteHook& hook)
    : impl_(std::make_unique<Impl>(cfg, store, std::move(master_key), metrics, hook)) {}

Server::~Server() = default;

std::uint16_t Server::port(Listener l) const {
  return impl_->bound.count(l) ? impl_->acceptors.at(l).local_endpoint().port() : 0;
}

void Server::run() {
  impl_->run();
}

}  // namespace oag::gateway
