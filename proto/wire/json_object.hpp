#pragma once
// The one place a proto/wire parser turns a body into a JSON object: malformed JSON (and a
// number JSON cannot hold, which nlohmann reports as out_of_range, not parse_error) is 400
// malformed-json, anything but an object 400 invalid-field naming the body.

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

#include "proto/wire/problem.hpp"

namespace oag::wire {

/// The body as a JSON object, or the problem that names what is wrong with it.
std::variant<nlohmann::json, Problem> parse_object(const std::string& body);

}  // namespace oag::wire
