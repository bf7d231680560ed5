#pragma once
// A small SIP message codec (RFC 3261 §7): what an endpoint needs to take part in a dialog
// through proxies. Header lines may be folded; compact names are understood; multi-valued
// headers (Via, Route, Record-Route, Contact) may come comma-joined or as separate lines.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oag::sip {

/// One header line, as received (unfolded).
struct Header {
  std::string name;   ///< the name as written (compact or long)
  std::string value;  ///< the value, trimmed
};

/// A request or a response.
struct Message {
  bool request = true;          ///< request or response
  std::string method;           ///< request method
  std::string uri;              ///< Request-URI
  int status = 0;               ///< response status
  std::string reason;           ///< reason phrase
  std::vector<Header> headers;  ///< in order
  std::string body;             ///< body (Content-Length is computed on serialise)

  /// The first value of a header (long or compact name, any case).
  std::optional<std::string> get(std::string_view name) const;
  /// Every value of a header, comma-joined lines split (outside quotes and <>).
  std::vector<std::string> all(std::string_view name) const;
  /// Appends a header line.
  void add(std::string name, std::string value);
  /// Removes every line of a header.
  void remove(std::string_view name);
  /// Replaces every line of a header by one.
  void set(std::string name, std::string value);
  /// The CSeq number and method; nullopt when missing or malformed.
  std::optional<std::pair<unsigned long, std::string>> cseq() const;
  /// Wire form, with Content-Length.
  std::string serialize() const;
};

/// Parses one complete message; nullopt with `why` when malformed.
std::optional<Message> parse(std::string_view data, std::string* why = nullptr);

/// For stream transports: the length of the first complete message in `buffer`, 0 when more
/// bytes are needed, -1 when the head is malformed (no Content-Length on a stream is -1).
std::ptrdiff_t frame_length(std::string_view buffer);

/// A header parameter by name (case-insensitive), e.g. `tag` of a From value or `branch` of a
/// Via value; parameters inside <...> are not header parameters and are skipped. An empty string
/// for a parameter without a value; nullopt when absent.
std::optional<std::string> param(std::string_view value, std::string_view name);

/// Sets (or adds) a header parameter, e.g. the To-tag.
std::string with_param(std::string_view value, std::string_view name, std::string_view v);

/// The URI of a name-addr (`"Bob" <sip:bob@x>;tag=1` → `sip:bob@x`) or of an addr-spec.
std::string uri_of(std::string_view value);

/// The user@host part of a SIP URI (`sip:bob@op-b.example;transport=tcp` → `bob@op-b.example`).
std::string aor_of(std::string_view uri);

/// Host and port of a SIP URI (`sip:a@127.0.0.1:5070;transport=tcp`); port 0 when absent.
bool host_port_of(std::string_view uri, std::string& host, unsigned short& port);

}  // namespace oag::sip
