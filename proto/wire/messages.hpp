#pragma once
// The JSON messages of the HTTP API (DESIGN §3): parsing with validation that names the field,
// and serialisation. Pure: no sockets, no store.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "proto/ident/ident.hpp"
#include "proto/wire/problem.hpp"

namespace oag::wire {

/// Most vectors one request may ask for.
inline constexpr unsigned kMaxCount = 16;

/// POST /v1/vectors (and, with requester and request_id, POST /v1/federation/vectors).
struct VectorRequest {
  std::string nai;                      ///< subject
  ident::Kind kind = ident::Kind::aka;  ///< sim or aka
  unsigned count = 1;                   ///< 1..kMaxCount
  std::string requester;                ///< federation only
  std::string request_id;               ///< federation only (UUID)
};

/// POST /v1/vectors/{id}/result
struct ResultReport {
  bool success = false;  ///< outcome "success" or "failure"
};

/// POST /v1/resync
struct ResyncRequest {
  aka::Bytes<16> rand{};  ///< the RAND of the failed challenge
  aka::Bytes<14> auts{};  ///< AUTS from the SIM
};

/// A vector in a response; sim vectors use sres/kc, aka vectors autn/xres/ck/ik.
struct WireVector {
  std::string id;                       ///< vector id
  ident::Kind kind = ident::Kind::aka;  ///< sim or aka
  aka::Bytes<16> rand{};                ///< RAND
  std::string expires;                  ///< RFC 3339 UTC
  aka::Bytes<16> autn{};                ///< aka
  aka::SecretVec<32> xres;              ///< aka: XRES; sim: SRES
  aka::Secret<16> ck, ik;               ///< aka
  aka::Secret<8> kc;                    ///< sim
};

/// Parses the endpoint's vector request; `federation` also requires requester and request_id.
std::variant<VectorRequest, Problem> parse_vector_request(const std::string& body, bool federation);
/// Parses a result report.
std::variant<ResultReport, Problem> parse_result_report(const std::string& body);
/// Parses a resync request.
std::variant<ResyncRequest, Problem> parse_resync_request(const std::string& body);

/// {"subject","issuer","vectors":[...]} — the only place vector secrets become text.
std::string vectors_response(const std::string& subject, const std::string& issuer,
                             const std::vector<WireVector>& vectors);

/// A parsed vectors response.
struct VectorsAnswer {
  std::string subject;              ///< NAI they are for ("" when the answer omits it)
  std::string issuer;               ///< realm that issued them ("" when the answer omits it)
  std::vector<WireVector> vectors;  ///< the vectors
};

/// Parses a vectors response (for the federation client and the client library).
std::variant<VectorsAnswer, Problem> parse_vectors_response(const std::string& body);

/// Unix ms as RFC 3339 UTC with milliseconds.
std::string rfc3339(std::int64_t ms);

}  // namespace oag::wire
