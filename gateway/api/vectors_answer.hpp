#pragma once
// The 200 answer for issued vectors: the only place store vectors become wire vectors.

#include <string>

#include "gateway/http_types.hpp"
#include "storage/types.hpp"

namespace oag::gateway::api {

/// {"subject","issuer","vectors":[...]} for vectors this gateway issued.
Response vectors_answer(const storage::IssueResult& res, ident::Kind kind,
                        const std::string& issuer, std::string route);

}  // namespace oag::gateway::api
