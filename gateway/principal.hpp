#pragma once
// Who an authenticated request comes from: a type per kind of caller, not loose strings.

#include <string>
#include <variant>
#include <vector>

#include "storage/types.hpp"

namespace oag::gateway {

/// No authentication (the visitor listener's open routes).
struct Anonymous {};

/// One of our subscribers, by the client certificate our endpoint CA issued.
struct SubscriberPrincipal {
  std::string nai;          ///< from the certificate (SAN URI sip:NAI, or CN)
  std::string cert_serial;  ///< lower-case hex, not revoked when this was made
};

/// A peer gateway, by a certificate that the trust of these agreements accepts.
struct PeerPrincipal {
  std::vector<storage::Agreement> agreements;  ///< current agreements that trust its chain
};

/// A visitor with a session at this gateway (DESIGN §7 M5).
struct VisitorPrincipal {
  std::string session;      ///< session id
  std::string nai;          ///< whose session
  std::string agreement;    ///< the agreement with her home operator ("" at home)
  std::string certificate;  ///< her certificate and its chain from the login, PEM
};

/// The ops listener (loopback monitoring).
struct OpsPrincipal {};

/// An authenticated caller.
using Principal =
    std::variant<Anonymous, SubscriberPrincipal, PeerPrincipal, VisitorPrincipal, OpsPrincipal>;

}  // namespace oag::gateway
