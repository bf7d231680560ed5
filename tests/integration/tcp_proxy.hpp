#pragma once
// A TCP proxy on 127.0.0.1 (port 0) for failure tests between two gateways: it forwards bytes
// unchanged (TLS passes through end to end), and on request refuses new connections or cuts a
// connection right after the upstream's answer arrived, without passing the answer on.

#include <atomic>
#include <memory>
#include <thread>

namespace oag::test {

/// Forwards 127.0.0.1:port() to 127.0.0.1:upstream.
class TcpProxy {
 public:
  /// What the proxy does.
  enum class Mode {
    pass,        ///< forwards both ways
    refuse,      ///< closes each new connection at once
    cut_answer,  ///< on an already open connection: forwards the next request, then drops the
                 ///< upstream's answer and closes both sides (once, then back to pass)
  };
  /// Listens on a free loopback port.
  explicit TcpProxy(unsigned short upstream);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  /// The port it listens on.
  unsigned short port() const { return port_; }
  /// Sets the mode for what comes next.
  void set_mode(Mode m) { mode_ = m; }
  /// Connections accepted so far.
  unsigned accepted() const { return accepted_; }
  /// Answers dropped by `cut_answer` so far.
  unsigned cuts() const { return cuts_; }

 private:
  void run();

  unsigned short upstream_;
  unsigned short port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<Mode> mode_{Mode::pass};
  std::atomic<unsigned> accepted_{0}, cuts_{0};
  std::thread thread_;
};

}  // namespace oag::test
