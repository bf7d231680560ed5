#include "gateway/api/vectors_answer.hpp"

#include "gateway/problems.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::api {

Response vectors_answer(const storage::IssueResult& res, ident::Kind kind,
                        const std::string& issuer, std::string route) {
  std::vector<wire::WireVector> out;
  out.reserve(res.vectors.size());
  for (const auto& iv : res.vectors) {
    wire::WireVector w;
    w.id = iv.id;
    w.kind = kind;
    w.rand = iv.rand;
    w.expires = wire::rfc3339(iv.expires_ms);
    w.autn = iv.autn;
    w.xres = iv.xres;
    w.ck = iv.ck;
    w.ik = iv.ik;
    w.kc = iv.kc;
    out.push_back(std::move(w));
  }
  Response resp =
      json_response(200, wire::vectors_response(res.subject, issuer, out), std::move(route));
  resp.vectors = static_cast<unsigned>(out.size());
  return resp;
}

}  // namespace oag::gateway::api
