#pragma once
// POST /v1/visitor/charges (DESIGN §7, the design's billing): a visitor with a session orders
// something, the order signed ES256 by her certificate's key. The FA checks the session MAC
// (the authenticator), the signature, and that the certificate chains to the user CA named in
// its agreement with her home operator (or to our own endpoint CA at home); then it appends a
// billing record of kind `charge` keeping the order, the signature and the certificate, so that
// anyone who trusts that CA can check the charge from the record alone
// (`oagctl billing verify-charge`).

#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "proto/login/messages.hpp"

namespace oag::gateway::roaming {

/// The charges route.
class ChargesApi {
 public:
  /// Uses `svc`.
  explicit ChargesApi(const Services& svc) : svc_(svc) {}
  /// POST /v1/visitor/charges.
  void charge(Call call, login::ChargeOrder o, Reply reply);

 private:
  const Services& svc_;
};

}  // namespace oag::gateway::roaming
