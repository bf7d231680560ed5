#pragma once
// RFC 9457 problem details: every error the HTTP API returns.

#include <string>

namespace oag::wire {

/// One problem: HTTP status, stable code (the last segment of its type URI), title, detail.
struct Problem {
  int status = 500;    ///< HTTP status
  std::string code;    ///< e.g. "invalid-field", "no-agreement"
  std::string title;   ///< short, fixed per code
  std::string detail;  ///< this occurrence; names the field when a field is at fault
};

/// Base of the type URIs.
inline constexpr const char* kProblemBase = "https://oag.example/problems/";

/// {"type","title","status","detail"} as compact JSON.
std::string to_json(const Problem& p);

/// 400 invalid-field naming `field`.
Problem invalid_field(const std::string& field, const std::string& why);

}  // namespace oag::wire
