// oag-bench: load over TLS keep-alive connections, each sending the next request when the last
// answer arrived (closed loop). Prints requests/s, vectors/s, latency percentiles and errors.
//   oag-bench --port P --ca CA [--cert C --key K] [--connections 64] [--seconds 10]
//             [--nai alice@op-a.example --kind aka --count 1] [--method GET --path /static.json]
//             [--idle N]
// --idle N: before the load, N more connections each send one request and then stay open, idle
// (keep-alive), for the whole run; the result says how many the server still held at the end.
#include <utility>  // before Asio: Boost 1.74 coroutine bug

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1", ca, cert, key, method = "POST", path = "/v1/vectors",
              nai = "alice@op-a.example", kind = "aka";
  unsigned short port = 0;
  unsigned connections = 64, count = 1, idle = 0;
  double seconds = 10;
  bool json = false;
};

struct Stats {
  std::vector<double> latency_us;
  std::map<int, std::uint64_t> statuses;
  std::uint64_t errors = 0, vectors = 0;
};

// Vectors in a response body without parsing it: count the "rand" keys.
unsigned count_vectors(const std::string& body) {
  unsigned n = 0;
  for (std::size_t p = body.find("\"rand\""); p != std::string::npos;
       p = body.find("\"rand\"", p + 1))
    ++n;
  return n;
}

asio::awaitable<void> connection(const Options& o, ssl::context& tls, Clock::time_point end,
                                 Stats& st) {
  auto ex = co_await asio::this_coro::executor;
  while (Clock::now() < end) {
    beast::ssl_stream<beast::tcp_stream> stream(ex, tls);
    boost::system::error_code ec;
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    co_await beast::get_lowest_layer(stream).async_connect(
        tcp::endpoint(asio::ip::make_address(o.host), o.port),
        asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      beast::get_lowest_layer(stream).socket().set_option(tcp::no_delay(true));
      co_await stream.async_handshake(ssl::stream_base::client,
                                      asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      ++st.errors;
      continue;
    }
    http::request<http::string_body> req{o.method == "GET" ? http::verb::get : http::verb::post,
                                         o.path, 11};
    req.set(http::field::host, "localhost");
    if (o.method != "GET") {
      req.set(http::field::content_type, "application/json");
      req.body() = "{\"nai\":\"" + o.nai + "\",\"kind\":\"" + o.kind +
                   "\",\"count\":" + std::to_string(o.count) + "}";
      req.prepare_payload();
    }
    beast::flat_buffer buf;
    while (Clock::now() < end) {
      const auto t0 = Clock::now();
      co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
      http::response<http::string_body> res;
      if (!ec)
        co_await http::async_read(stream, buf, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        ++st.errors;
        break;
      }
      st.latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      ++st.statuses[res.result_int()];
      if (res.result_int() == 200) st.vectors += count_vectors(res.body());
      if (!res.keep_alive()) break;
    }
  }
}

// The --idle connections: one request each, then held until the run ends.
struct Idle {
  std::vector<std::unique_ptr<beast::ssl_stream<beast::tcp_stream>>> streams;
  unsigned pending = 0, held = 0, failed = 0, dropped = 0;
  bool stopping = false;
};

asio::awaitable<void> idle_connection(const Options& o, ssl::context& tls, Idle& idle) {
  auto ex = co_await asio::this_coro::executor;
  auto& stream =
      *idle.streams.emplace_back(std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, tls));
  boost::system::error_code ec;
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  co_await beast::get_lowest_layer(stream).async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), o.port),
      asio::redirect_error(asio::use_awaitable, ec));
  if (!ec)
    co_await stream.async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
  http::response<http::string_body> res;
  beast::flat_buffer buf;
  if (!ec) {
    http::request<http::string_body> req{http::verb::post, "/v1/vectors", 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::content_type, "application/json");
    req.body() = "{\"nai\":\"" + o.nai + "\",\"kind\":\"sim\",\"count\":1}";
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec)
      co_await http::async_read(stream, buf, res, asio::redirect_error(asio::use_awaitable, ec));
  }
  --idle.pending;
  if (ec || res.result_int() != 200 || !res.keep_alive()) {
    ++idle.failed;
    co_return;
  }
  ++idle.held;
  char byte;  // nothing comes unless the server closes it
  co_await beast::get_lowest_layer(stream).socket().async_read_some(
      asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
  if (!idle.stopping) {
    --idle.held;
    ++idle.dropped;
  }
}

double pct(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"oag-bench: TLS keep-alive load against POST /v1/vectors (or any path)"};
  app.set_version_flag("--version", "oag-bench " OAG_VERSION);
  app.add_option("--host", o.host, "Server address")->capture_default_str();
  app.add_option("--port", o.port, "Server port")->required();
  app.add_option("--ca", o.ca, "CA of the server certificate")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--cert", o.cert, "Client certificate")->check(CLI::ExistingFile);
  app.add_option("--key", o.key, "Client key")->check(CLI::ExistingFile);
  app.add_option("--connections", o.connections, "Concurrent keep-alive connections")
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "Duration")->capture_default_str();
  app.add_option("--nai", o.nai, "Subject NAI")->capture_default_str();
  app.add_option("--kind", o.kind, "sim or aka")
      ->check(CLI::IsMember({"sim", "aka"}))
      ->capture_default_str();
  app.add_option("--count", o.count, "Vectors per request")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--method", o.method, "POST (vectors) or GET (static baseline)")
      ->check(CLI::IsMember({"GET", "POST"}))
      ->capture_default_str();
  app.add_option("--path", o.path, "Request path")->capture_default_str();
  app.add_option("--idle", o.idle,
                 "Connections opened first (one request each) and held idle for the run");
  app.add_flag("--json", o.json, "One JSON line of results");
  CLI11_PARSE(app, argc, argv);

  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(o.ca);
  tls.set_verify_mode(ssl::verify_peer);
  if (!o.cert.empty()) {
    tls.use_certificate_chain_file(o.cert);
    tls.use_private_key_file(o.key, ssl::context::pem);
  }
  asio::io_context ioc(1);
  // The idle connections first, 64 handshakes at a time (the listen backlog would drop more).
  Idle idle;
  for (unsigned i = 0; i < o.idle; ++i) {
    while (idle.pending >= 64) ioc.run_one();
    ++idle.pending;
    asio::co_spawn(ioc, idle_connection(o, tls, idle), asio::detached);
  }
  while (idle.pending > 0) ioc.run_one();
  if (o.idle && !o.json)
    std::printf("%u idle connections held (%u failed)\n", idle.held, idle.failed);
  std::vector<Stats> stats(o.connections);
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (unsigned i = 0; i < o.connections; ++i)
    asio::co_spawn(ioc, connection(o, tls, end, stats[i]), asio::detached);
  asio::steady_timer stop_idle(ioc, end);
  stop_idle.async_wait([&idle](const boost::system::error_code&) {
    idle.stopping = true;
    for (auto& s : idle.streams) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(*s).socket().close(ignored);
    }
  });
  ioc.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  Stats all;
  for (auto& s : stats) {
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    for (auto [k, v] : s.statuses) all.statuses[k] += v;
    all.errors += s.errors;
    all.vectors += s.vectors;
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  const std::uint64_t ok = all.statuses.count(200) ? all.statuses[200] : 0;
  const std::uint64_t non_200 = all.latency_us.size() - ok;
  const double rps = static_cast<double>(all.latency_us.size()) / elapsed;
  if (o.json) {
    std::printf(
        "{\"requests_per_s\":%.0f,\"vectors_per_s\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_"
        "ms\":%.3f,"
        "\"max_ms\":%.3f,\"errors\":%llu,\"non_200\":%llu,\"connections\":%u,\"seconds\":%.1f,"
        "\"idle_held\":%u,\"idle_failed\":%u,\"idle_dropped\":%u}\n",
        rps, all.vectors / elapsed, pct(all.latency_us, 0.5) / 1000,
        pct(all.latency_us, 0.9) / 1000, pct(all.latency_us, 0.99) / 1000,
        all.latency_us.empty() ? 0 : all.latency_us.back() / 1000,
        static_cast<unsigned long long>(all.errors), static_cast<unsigned long long>(non_200),
        o.connections, elapsed, idle.held, idle.failed, idle.dropped);
  } else {
    std::printf("%u connections, %.1f s: %.0f requests/s, %.0f vectors/s\n", o.connections, elapsed,
                rps, all.vectors / elapsed);
    std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
                pct(all.latency_us, 0.5) / 1000, pct(all.latency_us, 0.9) / 1000,
                pct(all.latency_us, 0.99) / 1000,
                all.latency_us.empty() ? 0 : all.latency_us.back() / 1000);
    std::printf("errors %llu, non-200 %llu\n", static_cast<unsigned long long>(all.errors),
                static_cast<unsigned long long>(non_200));
    if (o.idle)
      std::printf("idle connections at the end: %u held, %u closed by the server\n", idle.held,
                  idle.dropped);
  }
  return all.latency_us.empty() || idle.failed || idle.dropped ? 1 : 0;
}
