#pragma once
// SIP over UDP or TCP for one endpoint (RFC 3261 §18): every request we start goes to the
// proxy; a response goes back where its request came from (the UDP source, or the same TCP
// connection). TCP: an outbound connection to the proxy plus a listener for the connections the
// proxy opens to our Contact; messages are framed by Content-Length.

#include <netinet/in.h>

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

/// One endpoint's transport.
class Transport {
 public:
  /// Binds 127.0.0.1 (port 0) and, for TCP, connects to the proxy; throws std::runtime_error.
  Transport(bool tcp, const std::string& proxy_host, unsigned short proxy_port);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// "UDP" or "TCP".
  const char* name() const { return tcp_ ? "TCP" : "UDP"; }
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
  bool tcp_;
  std::string host_ = "127.0.0.1";
  unsigned short port_ = 0;
  int sock_ = -1;      // UDP socket or TCP listener
  int outbound_ = -1;  // TCP connection to the proxy
  sockaddr_in proxy_{};
  std::map<int, std::string> buffers_;  // TCP connections and their unread bytes
};

}  // namespace oag::phone
