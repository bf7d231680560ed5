#pragma once
// A blocking HTTPS/1.1 client over OpenSSL with pooled keep-alive connections and a deadline per
// call: what the AG client (mutual TLS) and enrollment (server authentication only) share.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace oag::client {

/// Where to connect and whom to trust.
struct HttpsOptions {
  std::string host = "127.0.0.1";  ///< address or name to connect to
  unsigned short port = 8443;      ///< port
  std::string server_name;         ///< name the server's certificate must carry (default: host)
  std::string ca_file;             ///< trust for the server
  /// False: the server's certificate is not checked. Only for the roaming login's M1/M2 at a
  /// visited network (DESIGN §7: the FA's certificate plays KU_FA, which the user cannot verify
  /// and need not: the exchange is secure without it).
  bool verify_server = true;
  std::string cert_file;       ///< our certificate (chain); empty: none is presented
  std::string key_file;        ///< its private key
  unsigned timeout_ms = 5000;  ///< per call: connect, write and read together
  unsigned max_idle = 4;       ///< pooled idle connections kept
};

/// One answer (status 0 with `error` when none came).
struct HttpsReply {
  int status = 0;                              ///< HTTP status
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< body
  std::string error;                           ///< transport error
};

/// Sees every complete answer of every HttpsClient in the process (not transport failures):
/// how a conformance test checks what a gateway really answered against its API document.
using ExchangeObserver = std::function<void(const std::string& method, const std::string& path,
                                            const HttpsReply& reply)>;

/// Installs the process-wide observer (an empty function removes it).
void set_exchange_observer(ExchangeObserver observer);

/// The client; safe to use from several threads.
class HttpsClient {
 public:
  /// Loads the CA (and certificate and key); throws std::runtime_error naming the file.
  explicit HttpsClient(HttpsOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  /// Sends a request with `content_type` and extra `headers`; retries once on a fresh connection
  /// when a pooled one turns out closed before any byte of the answer.
  HttpsReply request(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  /// TLS connections opened so far.
  unsigned connections_opened() const;
  /// The options in use.
  const HttpsOptions& options() const { return options_; }

 private:
  struct Context;
  struct Connection;
  std::unique_ptr<Connection> take();
  void give_back(std::unique_ptr<Connection> c);

  HttpsOptions options_;
  std::unique_ptr<Context> ctx_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  unsigned opened_ = 0;
};

}  // namespace oag::client
