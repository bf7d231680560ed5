#pragma once
// The caller and callee state machines of the end-to-end mutual authentication (DESIGN §5),
// independent of any SIP stack: they take and give the `oag1` carrier strings and end in
// authenticated (with session keys) or failed (with a reason). Gateway calls are blocking; the
// result report is a separate step so that a SIP stack can send its ACK or BYE first.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "client/gateway.hpp"
#include "client/soft_sim.hpp"
#include "proto/session/keys.hpp"
#include "proto/sip/carrier.hpp"

namespace oag::client {

/// Where a machine is.
enum class AuthState { idle, challenged, authenticated, failed };

/// The Warning text of a callee's rejection that asks the caller to retry with a fresh vector.
inline constexpr std::string_view kSyncFailure = "oag1 sync-failure";

/// What both machines hold: the peer's vector from the own AG, the verdict on it, the keys.
class MutualAuth {
 public:
  /// The state.
  AuthState state() const { return state_; }
  /// Why it failed.
  const std::string& reason() const { return reason_; }
  /// The session keys (authenticated only).
  const session::SessionKeys& keys() const { return *keys_; }
  /// True when a verdict on the peer's vector is waiting to be reported.
  bool has_result() const;
  /// Reports the peer vector's outcome (verified or not) to the own AG, once.
  std::optional<Error> report();

 protected:
  MutualAuth(AuthGateway& ag, SoftSim& sim, std::string own_nai)
      : ag_(ag), sim_(sim), own_nai_(std::move(own_nai)) {}
  /// Enters failed with `why`; returns false.
  bool fail(std::string why);

  AuthGateway& ag_;
  SoftSim& sim_;
  std::string own_nai_;
  AuthState state_ = AuthState::idle;
  std::string reason_;
  std::optional<wire::WireVector> av_;  // the peer's vector
  bool verified_ = false;               // the peer's response matched it
  bool reported_ = false;
  std::optional<session::SessionKeys> keys_;
};

/// The caller (A): challenges the callee with the peer's vector, answers the callee's challenge.
class CallerAuth final : public MutualAuth {
 public:
  /// `ag` is A's own gateway, `sim` A's SIM.
  CallerAuth(AuthGateway& ag, SoftSim& sim, std::string own_nai, std::string peer_nai,
             sip::Kind kind);

  /// Fetches a vector of the peer from the own AG: the INVITE's From-tag; nullopt when failed.
  std::optional<std::string> start();
  /// The 200 OK's To-tag: verifies the callee's response and answers its challenge. Returns
  /// the ACK carrier (`oag1.<RES_A>.<nonce>`: prefix it with z9hG4bK for a branch); nullopt when
  /// failed (then send an ACK with OAG-Auth: sip::kRefused and a BYE giving reason()).
  std::optional<std::string> on_answer(std::string_view to_tag, const std::string& call_id);
  /// The callee refused the INVITE; true when a new attempt with a fresh vector may succeed
  /// (the callee resynchronised its SIM), which the caller tries once.
  bool on_rejected(int status, std::string_view warning_text);

 private:
  std::string peer_nai_;
  sip::Kind kind_;
};

/// The callee (B): answers the caller's challenge and challenges it back.
class CalleeAuth final : public MutualAuth {
 public:
  /// A refusal of the INVITE: the SIP status and the Warning text.
  struct Reject {
    int status = 403;     ///< SIP status
    std::string warning;  ///< "oag1 ..." for the Warning header
  };

  /// `ag` is B's own gateway, `sim` B's SIM.
  CalleeAuth(AuthGateway& ag, SoftSim& sim, std::string own_nai);

  /// The INVITE's From-tag and the caller's NAI: the To-tag for 180/200, or a rejection.
  std::variant<std::string, Reject> on_invite(std::string_view from_tag,
                                              const std::string& caller_nai);
  /// The ACK's carrier (branch or OAG-Auth value, or sip::kRefused): true when the caller is
  /// authenticated; false → send BYE giving reason(), unless caller_gave_up().
  bool on_ack(std::string_view carrier, const std::string& call_id);
  /// The caller ended the call before it answered our challenge (a BYE before the ACK).
  void abandon(std::string why);
  /// True when the ACK carried sip::kRefused: the caller found our response wrong and ends the
  /// call with its own BYE, so the callee need not send one.
  bool caller_gave_up() const { return gave_up_; }

 private:
  Reject reject(int status, std::string warning);

  std::string caller_nai_;
  sip::Kind kind_ = sip::Kind::sim;
  aka::Bytes<16> rand_b_{};
  aka::SecretVec<32> own_key_;  // Kc_B or CK_B‖IK_B
  bool gave_up_ = false;
};

}  // namespace oag::client
