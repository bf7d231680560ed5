#include "proto/wire/messages.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"
#include "proto/wire/json_object.hpp"

namespace oag::wire {

namespace {

using Json = nlohmann::json;

// Every key must be known: a typo is an error, not a silently ignored field.
std::optional<Problem> only_keys(const Json& j, std::initializer_list<const char*> keys) {
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const char* want : keys) known |= k == want;
    if (!known) return invalid_field(k, "unknown field");
  }
  return std::nullopt;
}

std::variant<std::string, Problem> string_field(const Json& j, const char* name, bool required) {
  const auto it = j.find(name);
  if (it == j.end()) {
    if (required) return invalid_field(name, "required");
    return std::string();
  }
  if (!it->is_string()) return invalid_field(name, "expected a string");
  return it->get<std::string>();
}

template <std::size_t N>
std::variant<aka::Bytes<N>, Problem> hex_field(const Json& j, const char* name) {
  auto s = string_field(j, name, true);
  if (auto* p = std::get_if<Problem>(&s)) return *p;
  const auto& v = std::get<std::string>(s);
  const auto b = aka::from_hex_fixed<N>(v);
  if (!b) return invalid_field(name, "expected " + std::to_string(2 * N) + " hex digits");
  return *b;
}

}  // namespace

std::variant<Json, Problem> parse_object(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for 1e99999
    return Problem{400, "malformed-json", "The body is not valid JSON",
                   std::string("body: ") + e.what()};
  }
  if (!j.is_object()) return invalid_field("body", "expected a JSON object");
  return j;
}

std::variant<VectorRequest, Problem> parse_vector_request(const std::string& body,
                                                          bool federation) {
  auto parsed = parse_object(body);
  if (auto* p = std::get_if<Problem>(&parsed)) return *p;
  const auto& j = std::get<Json>(parsed);
  if (auto p = federation ? only_keys(j, {"nai", "kind", "count", "requester", "request_id"})
                          : only_keys(j, {"nai", "kind", "count"}))
    return *p;
  VectorRequest r;
  auto nai = string_field(j, "nai", true);
  if (auto* p = std::get_if<Problem>(&nai)) return *p;
  r.nai = std::get<std::string>(nai);
  if (!ident::valid_nai(r.nai)) return invalid_field("nai", "expected user@realm");
  auto kind = string_field(j, "kind", true);
  if (auto* p = std::get_if<Problem>(&kind)) return *p;
  const auto k = ident::parse_kind(std::get<std::string>(kind));
  if (!k) return invalid_field("kind", "expected \"sim\" or \"aka\"");
  r.kind = *k;
  if (const auto it = j.find("count"); it != j.end()) {
    if (!it->is_number_integer()) return invalid_field("count", "expected an integer");
    const auto n = it->get<std::int64_t>();
    if (n < 1 || n > kMaxCount)
      return invalid_field("count", "must be 1.." + std::to_string(kMaxCount));
    r.count = static_cast<unsigned>(n);
  }
  if (federation) {
    auto req = string_field(j, "requester", true);
    if (auto* p = std::get_if<Problem>(&req)) return *p;
    r.requester = std::get<std::string>(req);
    if (!ident::valid_nai(r.requester)) return invalid_field("requester", "expected user@realm");
    auto id = string_field(j, "request_id", true);
    if (auto* p = std::get_if<Problem>(&id)) return *p;
    r.request_id = std::get<std::string>(id);
    if (!ident::valid_request_id(r.request_id))
      return invalid_field("request_id", "expected a UUID");
  }
  return r;
}

std::variant<ResultReport, Problem> parse_result_report(const std::string& body) {
  auto parsed = parse_object(body);
  if (auto* p = std::get_if<Problem>(&parsed)) return *p;
  const auto& j = std::get<Json>(parsed);
  if (auto p = only_keys(j, {"outcome"})) return *p;
  auto o = string_field(j, "outcome", true);
  if (auto* p = std::get_if<Problem>(&o)) return *p;
  const auto& v = std::get<std::string>(o);
  if (v != "success" && v != "failure")
    return invalid_field("outcome", "expected \"success\" or \"failure\"");
  return ResultReport{v == "success"};
}

std::variant<ResyncRequest, Problem> parse_resync_request(const std::string& body) {
  auto parsed = parse_object(body);
  if (auto* p = std::get_if<Problem>(&parsed)) return *p;
  const auto& j = std::get<Json>(parsed);
  if (auto p = only_keys(j, {"rand", "auts"})) return *p;
  ResyncRequest r;
  auto rand = hex_field<16>(j, "rand");
  if (auto* p = std::get_if<Problem>(&rand)) return *p;
  r.rand = std::get<aka::Bytes<16>>(rand);
  auto auts = hex_field<14>(j, "auts");
  if (auto* p = std::get_if<Problem>(&auts)) return *p;
  r.auts = std::get<aka::Bytes<14>>(auts);
  return r;
}

std::string vectors_response(const std::string& subject, const std::string& issuer,
                             const std::vector<WireVector>& vectors) {
  nlohmann::ordered_json j;
  j["subject"] = subject;
  j["issuer"] = issuer;
  auto& arr = j["vectors"] = nlohmann::ordered_json::array();
  for (const auto& v : vectors) {
    nlohmann::ordered_json o;
    o["id"] = v.id;
    o["kind"] = std::string(ident::to_string(v.kind));
    o["rand"] = aka::to_hex(v.rand);
    if (v.kind == ident::Kind::sim) {
      o["sres"] = aka::to_hex(v.xres.expose());
      o["kc"] = aka::to_hex(v.kc.expose());
    } else {
      o["autn"] = aka::to_hex(v.autn);
      o["xres"] = aka::to_hex(v.xres.expose());
      o["ck"] = aka::to_hex(v.ck.expose());
      o["ik"] = aka::to_hex(v.ik.expose());
    }
    o["expires"] = v.expires;
    arr.push_back(std::move(o));
  }
  return j.dump();
}

std::variant<VectorsAnswer, Problem> parse_vectors_response(const std::string& body) {
  auto parsed = parse_object(body);
  if (auto* p = std::get_if<Problem>(&parsed)) return *p;
  const auto& j = std::get<Json>(parsed);
  VectorsAnswer answer;
  auto subject = string_field(j, "subject", false);
  auto issuer = string_field(j, "issuer", false);
  for (auto* f : {&subject, &issuer})
    if (auto* p = std::get_if<Problem>(f)) return *p;
  answer.subject = std::get<std::string>(subject);
  answer.issuer = std::get<std::string>(issuer);
  const auto it = j.find("vectors");
  if (it == j.end() || !it->is_array()) return invalid_field("vectors", "expected an array");
  auto& out = answer.vectors;
  for (const auto& o : *it) {
    if (!o.is_object()) return invalid_field("vectors", "expected objects");
    WireVector v;
    auto id = string_field(o, "id", true);
    auto kind = string_field(o, "kind", true);
    auto expires = string_field(o, "expires", true);
    for (auto* f : {&id, &kind, &expires})
      if (auto* p = std::get_if<Problem>(f)) return *p;
    v.id = std::get<std::string>(id);
    const auto k = ident::parse_kind(std::get<std::string>(kind));
    if (!k) return invalid_field("kind", "expected \"sim\" or \"aka\"");
    v.kind = *k;
    v.expires = std::get<std::string>(expires);
    auto rand = hex_field<16>(o, "rand");
    if (auto* p = std::get_if<Problem>(&rand)) return *p;
    v.rand = std::get<aka::Bytes<16>>(rand);
    if (v.kind == ident::Kind::sim) {
      auto sres = hex_field<4>(o, "sres");
      auto kc = hex_field<8>(o, "kc");
      if (auto* p = std::get_if<Problem>(&sres)) return *p;
      if (auto* p = std::get_if<Problem>(&kc)) return *p;
      v.xres = aka::SecretVec<32>(std::get<aka::Bytes<4>>(sres));
      v.kc = aka::Secret<8>(std::get<aka::Bytes<8>>(kc));
    } else {
      auto autn = hex_field<16>(o, "autn");
      auto ck = hex_field<16>(o, "ck");
      auto ik = hex_field<16>(o, "ik");
      for (auto* f : {&autn, &ck, &ik})
        if (auto* p = std::get_if<Problem>(f)) return *p;
      auto xres_s = string_field(o, "xres", true);
      if (auto* p = std::get_if<Problem>(&xres_s)) return *p;
      const auto xres = aka::from_hex(std::get<std::string>(xres_s));
      if (!xres || xres->size() < 4 || xres->size() > 32)
        return invalid_field("xres", "expected 8 to 64 hex digits");
      v.autn = std::get<aka::Bytes<16>>(autn);
      v.ck = aka::Secret<16>(std::get<aka::Bytes<16>>(ck));
      v.ik = aka::Secret<16>(std::get<aka::Bytes<16>>(ik));
      v.xres = aka::SecretVec<32>(*xres);
    }
    out.push_back(std::move(v));
  }
  return answer;
}

std::string rfc3339(std::int64_t ms) {
  const time_t s = static_cast<time_t>(ms / 1000);
  struct tm t {};
  gmtime_r(&s, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace oag::wire
