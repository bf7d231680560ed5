#include "proto/sip/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace oag::sip {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// RFC 3261 §7.3.3 compact forms.
std::string_view long_name(std::string_view n) {
  if (n.size() != 1) return n;
  switch (std::tolower(static_cast<unsigned char>(n[0]))) {
    case 'v':
      return "Via";
    case 'f':
      return "From";
    case 't':
      return "To";
    case 'i':
      return "Call-ID";
    case 'm':
      return "Contact";
    case 'l':
      return "Content-Length";
    case 'c':
      return "Content-Type";
    case 'k':
      return "Supported";
    case 's':
      return "Subject";
    default:
      return n;
  }
}

bool same_header(std::string_view a, std::string_view b) {
  return iequals(long_name(a), long_name(b));
}

// Splits at commas outside quotes and angle brackets.
void split_commas(std::string_view v, std::vector<std::string>& out) {
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '"' && (i == 0 || v[i - 1] != '\\'))
      quoted = !quoted;
    else if (!quoted && c == '<')
      ++angle;
    else if (!quoted && c == '>')
      angle = std::max(0, angle - 1);
    else if (!quoted && angle == 0 && c == ',') {
      if (auto p = trim(v.substr(start, i - start)); !p.empty()) out.emplace_back(p);
      start = i + 1;
    }
  }
  if (auto p = trim(v.substr(start)); !p.empty()) out.emplace_back(p);
}

bool multi_valued(std::string_view name) {
  for (auto n : {"Via", "Route", "Record-Route", "Contact"})
    if (same_header(name, n)) return true;
  return false;
}

// Where the header parameters of a value start: after the name-addr's closing '>' if any.
std::size_t params_start(std::string_view v) {
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"' && (i == 0 || v[i - 1] != '\\'))
      quoted = !quoted;
    else if (!quoted && v[i] == '<') {
      const auto close = v.find('>', i);
      return close == std::string_view::npos ? v.size() : close + 1;
    }
  }
  return 0;
}

// The header lines of a head (start line and header lines, each ending in CRLF): the start line
// skipped, a line starting with white space joined to the header it continues (folding). The
// one reading of a head that parse() and the stream framer share, so that both agree on every
// header, Content-Length first (the fuzzer found a request line "l:x y SIP/2.0" read as one by
// a second reading). Returns why a head is malformed, or nullptr.
const char* read_headers(std::string_view head, std::vector<Header>& out) {
  auto pos = head.find("\r\n");
  if (pos == std::string_view::npos) return nullptr;
  pos += 2;
  while (pos < head.size()) {
    auto e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    const auto line = head.substr(pos, e - pos);
    pos = e + 2;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      if (out.empty()) return "folded first header";
      auto& v = out.back().value;
      if (const auto more = trim(line); !more.empty()) {
        if (!v.empty()) v += ' ';
        v += more;
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return "header without colon";
    const auto name = trim(line.substr(0, colon));
    if (name.empty()) return "empty header name";
    out.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  }
  return nullptr;
}

// What the headers say about the length of the body.
struct BodyLength {
  enum class Kind { absent, value, invalid } kind = Kind::absent;
  std::size_t n = 0;
};

// A value that is not a number, or a second Content-Length, is invalid rather than ignored:
// two lengths are how a message is smuggled past a proxy that reads the other one.
BodyLength body_length(const std::vector<Header>& headers) {
  BodyLength out;
  for (const auto& h : headers) {
    if (!same_header(h.name, "Content-Length")) continue;
    if (out.kind != BodyLength::Kind::absent) return {BodyLength::Kind::invalid, 0};
    std::size_t n = 0;
    const auto& v = h.value;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
      return {BodyLength::Kind::invalid, 0};
    out = {BodyLength::Kind::value, n};
  }
  return out;
}

}  // namespace

std::optional<std::string> Message::get(std::string_view name) const {
  for (const auto& h : headers)
    if (same_header(h.name, name)) {
      if (!multi_valued(name)) return h.value;
      std::vector<std::string> parts;
      split_commas(h.value, parts);
      return parts.empty() ? h.value : parts.front();
    }
  return std::nullopt;
}

std::vector<std::string> Message::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : headers)
    if (same_header(h.name, name)) {
      if (multi_valued(name))
        split_commas(h.value, out);
      else
        out.push_back(h.value);
    }
  return out;
}

void Message::add(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
}

void Message::remove(std::string_view name) {
  std::erase_if(headers, [&](const Header& h) { return same_header(h.name, name); });
}

void Message::set(std::string name, std::string value) {
  for (auto it = headers.begin(); it != headers.end(); ++it)
    if (same_header(it->name, name)) {
      it->name = std::move(name);
      it->value = std::move(value);
      headers.erase(std::remove_if(it + 1, headers.end(),
                                   [&](const Header& h) { return same_header(h.name, it->name); }),
                    headers.end());
      return;
    }
  add(std::move(name), std::move(value));
}

std::optional<std::pair<unsigned long, std::string>> Message::cseq() const {
  const auto v = get("CSeq");
  if (!v) return std::nullopt;
  const auto sp = v->find(' ');
  if (sp == std::string::npos) return std::nullopt;
  unsigned long n = 0;
  const auto r = std::from_chars(v->data(), v->data() + sp, n);
  if (r.ec != std::errc() || r.ptr != v->data() + sp) return std::nullopt;
  const auto m = trim(std::string_view(*v).substr(sp + 1));
  if (m.empty()) return std::nullopt;
  return std::make_pair(n, std::string(m));
}

std::string Message::serialize() const {
  std::string out;
  out.reserve(512 + body.size());
  if (request)
    out += method + " " + uri + " SIP/2.0\r\n";
  else
    out += "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
  for (const auto& h : headers) {
    if (same_header(h.name, "Content-Length")) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

std::optional<Message> parse(std::string_view data, std::string* why) {
  const auto fail = [&](const char* w) -> std::optional<Message> {
    if (why) *why = w;
    return std::nullopt;
  };
  const auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return fail("no end of header");
  const auto head = data.substr(0, head_end + 2);
  // Lines end in CRLF; a lone CR or LF would let a header smuggle another one.
  for (std::size_t i = 0; i < head.size(); ++i)
    if ((head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) ||
        (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')))
      return fail("bare CR or LF in the header");
  Message m;
  auto eol = head.find("\r\n");
  const auto start = head.substr(0, eol);
  if (start.starts_with("SIP/2.0 ")) {
    m.request = false;
    const auto rest = start.substr(8);
    const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), m.status);
    if (r.ec != std::errc() || m.status < 100 || m.status > 699) return fail("bad status");
    m.reason = std::string(trim(std::string_view(r.ptr, rest.data() + rest.size() - r.ptr)));
  } else {
    const auto s1 = start.find(' ');
    const auto s2 = start.rfind(' ');
    if (s1 == std::string_view::npos || s2 == s1 || start.substr(s2 + 1) != "SIP/2.0")
      return fail("bad request line");
    m.method = std::string(start.substr(0, s1));
    m.uri = std::string(start.substr(s1 + 1, s2 - s1 - 1));
    if (m.method.empty() || m.uri.empty()) return fail("bad request line");
  }
  if (const char* bad = read_headers(head, m.headers)) return fail(bad);
  auto body = data.substr(head_end + 4);
  const auto len = body_length(m.headers);
  if (len.kind == BodyLength::Kind::invalid) return fail("bad Content-Length");
  if (len.kind == BodyLength::Kind::value) {
    if (len.n > body.size()) return fail("body shorter than Content-Length");
    body = body.substr(0, len.n);
  }
  m.body = std::string(body);
  for (auto n : {"Via", "From", "To", "Call-ID", "CSeq"})
    if (!m.get(n)) return fail("missing mandatory header");
  if (!m.cseq()) return fail("bad CSeq");
  return m;
}

std::ptrdiff_t frame_length(std::string_view buffer) {
  // Keep-alive CRLFs between messages (RFC 5626) are skipped by the caller; a head is needed.
  const auto head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return buffer.size() > 65536 ? -1 : 0;
  std::vector<Header> headers;
  if (read_headers(buffer.substr(0, head_end + 2), headers)) return -1;
  const auto len = body_length(headers);
  if (len.kind != BodyLength::Kind::value) return -1;
  const std::size_t total = head_end + 4 + len.n;
  return buffer.size() < total ? 0 : static_cast<std::ptrdiff_t>(total);
}

std::optional<std::string> param(std::string_view value, std::string_view name) {
  auto rest = value.substr(params_start(value));
  std::size_t pos = 0;
  bool quoted = false;
  // Walk ';'-separated parameters outside quotes.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (; pos < rest.size(); ++pos) {
    if (rest[pos] == '"')
      quoted = !quoted;
    else if (!quoted && rest[pos] == ';') {
      parts.push_back(rest.substr(start, pos - start));
      start = pos + 1;
    }
  }
  parts.push_back(rest.substr(start));
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto p = trim(parts[i]);
    const auto eq = p.find('=');
    if (iequals(trim(p.substr(0, eq)), name))
      return eq == std::string_view::npos ? std::string() : std::string(trim(p.substr(eq + 1)));
  }
  return std::nullopt;
}

std::string with_param(std::string_view value, std::string_view name, std::string_view v) {
  std::string out(value);
  if (auto old = param(value, name)) {
    // Rebuild without the old parameter.
    const auto ps = params_start(value);
    std::string head(value.substr(0, ps));
    std::string tail;
    std::size_t start = ps;
    while (start < value.size()) {
      auto semi = value.find(';', start + 1);
      const auto piece = value.substr(start, semi == std::string_view::npos ? semi : semi - start);
      const auto body = trim(piece.substr(piece.starts_with(';') ? 1 : 0));
      const auto eq = body.find('=');
      if (!iequals(trim(body.substr(0, eq)), name)) tail += piece;
      if (semi == std::string_view::npos) break;
      start = semi;
    }
    out = head + tail;
  }
  out += ';';
  out += name;
  out += '=';
  out += v;
  return out;
}

std::string uri_of(std::string_view value) {
  const auto lt = value.find('<');
  if (lt != std::string_view::npos) {
    const auto gt = value.find('>', lt);
    return std::string(value.substr(lt + 1, gt == std::string_view::npos ? gt : gt - lt - 1));
  }
  return std::string(trim(value.substr(0, value.find(';'))));
}

std::string aor_of(std::string_view uri) {
  auto u = uri;
  if (u.starts_with("sip:"))
    u.remove_prefix(4);
  else if (u.starts_with("sips:"))
    u.remove_prefix(5);
  u = u.substr(0, u.find_first_of(";?>"));
  // Strip a port from the host part.
  const auto at = u.find('@');
  const auto colon = u.find(':', at == std::string_view::npos ? 0 : at);
  return std::string(colon == std::string_view::npos ? u : u.substr(0, colon));
}

bool host_port_of(std::string_view uri, std::string& host, unsigned short& port) {
  auto u = uri;
  if (u.starts_with("sip:")) u.remove_prefix(4);
  u = u.substr(0, u.find_first_of(";?>"));
  if (const auto at = u.find('@'); at != std::string_view::npos) u = u.substr(at + 1);
  port = 0;
  const auto colon = u.find(':');
  host = std::string(u.substr(0, colon));
  if (colon != std::string_view::npos) {
    const auto p = u.substr(colon + 1);
    const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (r.ec != std::errc()) return false;
  }
  return !host.empty();
}

}  // namespace oag::sip
