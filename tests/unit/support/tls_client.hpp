#pragma once
// A blocking HTTPS/1.1 client over OpenSSL for tests: client certificate optional, keep-alive.

#include <map>
#include <memory>
#include <string>

namespace oag::test {

/// One HTTP response.
struct HttpReply {
  int status = 0;                              ///< 0 when the connection failed
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< body
};

/// A TLS connection to 127.0.0.1:port.
class TlsClient {
 public:
  /// Trusts `ca_file`; presents `cert`/`key` when not empty.
  TlsClient(unsigned short port, const std::string& ca_file, const std::string& cert = {},
            const std::string& key = {});
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;
  /// Connects and handshakes; false (with error()) when refused.
  bool connect();
  /// Sends a request and reads the response (connects first when needed); status 0 on failure.
  HttpReply request(const std::string& method, const std::string& path,
                    const std::string& body = {},
                    const std::string& content_type = "application/json");
  /// Writes raw bytes (for malformed or slow requests); false on failure.
  bool send_raw(const std::string& bytes);
  /// Blocks until the server closes the connection; false if data arrived instead.
  bool wait_closed();
  /// The last error.
  const std::string& error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

/// A TCP connection to 127.0.0.1:port (no Nagle); -1 when refused.
int tcp_connect(unsigned short port);

/// A plain-HTTP GET to 127.0.0.1:port (the ops listener).
HttpReply http_get(unsigned short port, const std::string& path);

}  // namespace oag::test
