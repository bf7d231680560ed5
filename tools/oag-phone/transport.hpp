#pragma once
// SIP over UDP, TCP or TLS for one endpoint (RFC 3261 §18): every request we start goes to the
// proxy; a response goes back where its request came from (the UDP source, or the same TCP
// connection). TCP: an outbound connection to the proxy plus a listener for the connections the
// proxy opens to our Contact; messages are framed by Content-Length. TLS: one connection to the
// proxy with our certificate as the client certificate, and our Via and Contact name its local
// port, so that the proxy sends us everything on it (the connection reuse of RFC 5923: an
// endpoint needs no server certificate).

#include <netinet/in.h>
#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "proto/sip/message.hpp"

namespace oag::phone {

/// Where a message came from, to answer it.
struct Origin {
  int fd = -1;         ///< TCP connection (or the UDP socket)
  sockaddr_in from{};  ///< UDP source
};

/// A received message.
struct Incoming {
  sip::Message msg;  ///< parsed message
  Origin origin;     ///< where to answer
};

/// Which transport.
enum class TransportKind { udp, tcp, tls };

/// TLS: the proxy's CA and our certificate.
struct TlsOptions {
  std::string ca_file;     ///< trust for the proxy's certificate
  std::string cert_file;   ///< our certificate (and chain)
  std::string key_file;    ///< its key
  std::string chain_file;  ///< intermediates to send after it ("" when in cert_file or none)
};

/// One endpoint's transport.
class Transport {
 public:
  /// Binds 127.0.0.1 (port 0) and, for TCP, connects to the proxy; for TLS, connects and
  /// handshakes with `tls`; throws std::runtime_error naming what failed.
  Transport(TransportKind kind, const std::string& proxy_host, unsigned short proxy_port,
            const TlsOptions& tls = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// "UDP", "TCP" or "TLS".
  const char* name() const {
    return kind_ == TransportKind::tls ? "TLS" : kind_ == TransportKind::tcp ? "TCP" : "UDP";
  }
  /// The Contact URI parameter (";transport=tcp" or ";transport=tls"; "" for UDP).
  std::string uri_param() const {
    return kind_ == TransportKind::tls   ? ";transport=tls"
           : kind_ == TransportKind::tcp ? ";transport=tcp"
                                         : "";
  }
  /// A stream transport (no retransmissions).
  bool reliable() const { return kind_ != TransportKind::udp; }
  /// Our address for Via and Contact.
  const std::string& host() const { return host_; }
  /// Our port for Via and Contact.
  unsigned short port() const { return port_; }
  /// Sends to the proxy.
  bool send_to_proxy(const std::string& data);
  /// Sends a response back where the request came from.
  bool reply(const Origin& o, const std::string& data);
  /// Waits for the next message until `deadline`; malformed datagrams are dropped.
  std::optional<Incoming> receive(std::chrono::steady_clock::time_point deadline);

 private:
  bool send_all(int fd, const std::string& data);
  void read_tls();
  void connect_tls(const std::string& proxy_host, unsigned short proxy_port, const TlsOptions& tls);
  TransportKind kind_;
  bool tcp_;  // a stream (TCP or TLS)
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;  // TLS: on outbound_
  bool tls_closed_ = false;
  std::string host_ = "127.0.0.1";
  unsigned short port_ = 0;
  int sock_ = -1;      // UDP socket or TCP listener
  int outbound_ = -1;  // TCP connection to the proxy
  sockaddr_in proxy_{};
  std::map<int, std::string> buffers_;  // TCP connections and their unread bytes
};

}  // namespace oag::phone
