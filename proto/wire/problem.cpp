#include "proto/wire/problem.hpp"

#include <nlohmann/json.hpp>

namespace oag::wire {

std::string to_json(const Problem& p) {
  nlohmann::ordered_json j;
  j["type"] = std::string(kProblemBase) + p.code;
  j["title"] = p.title;
  j["status"] = p.status;
  j["detail"] = p.detail;
  return j.dump();
}

Problem invalid_field(const std::string& field, const std::string& why) {
  return {400, "invalid-field", "A field of the request is invalid", field + ": " + why};
}

}  // namespace oag::wire
