#pragma once
// The SIM side in software (DESIGN §5): K and OPc, GSM and AKA runs, SQN_MS per IND persisted to
// a state file so that a restart keeps replay protection. A real SIM (PC/SC) fits the same
// interface later. The state file also keeps the last RANDs seen, so a replayed challenge is
// refused even for GSM, whose SIM has no sequence numbers.

#include <deque>
#include <filesystem>
#include <string>

#include "proto/aka/usim.hpp"
#include "proto/aka/vector.hpp"

namespace oag::client {

/// What a GSM run gives.
struct GsmAnswer {
  aka::Secret<4> sres;  ///< SRES
  aka::Secret<8> kc;    ///< Kc
};

/// A software SIM.
class SoftSim {
 public:
  /// Opens the SIM; loads `state_file` if it exists (throws std::runtime_error naming it when it
  /// is unreadable or malformed), else starts fresh and creates it on the first change.
  SoftSim(aka::SubscriberKeys keys, std::string imsi, std::filesystem::path state_file,
          unsigned ind_len = aka::kDefaultIndLen);

  /// Loads a SIM profile: JSON {"imsi","k","opc"|"op","algorithm"?,"ind_len"?,"state"?}; the
  /// state file defaults to `<profile>.state`. Throws std::runtime_error naming the field.
  static SoftSim load(const std::filesystem::path& profile);

  /// GSM: SRES and Kc for RAND (GSM-Milenage, or c2/c3 of the AKA functions).
  GsmAnswer run_gsm(const aka::Bytes<16>& rand) const;
  /// AKA: verifies AUTN; on success records SQN (persisted before returning).
  aka::AkaOutcome run_aka(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn);

  /// True when this RAND was seen already (a replayed challenge).
  bool seen(const aka::Bytes<16>& rand) const;
  /// Remembers RAND (persisted; the newest kRememberedRands are kept).
  void remember(const aka::Bytes<16>& rand);

  /// The IMSI.
  const std::string& imsi() const { return imsi_; }
  /// SQN_MS state, for tests and diagnostics.
  const aka::UsimSqnState& sqn_state() const { return sqn_; }

  /// How many RANDs the replay cache keeps.
  static constexpr std::size_t kRememberedRands = 4096;

 private:
  void save() const;

  aka::SubscriberKeys keys_;
  std::string imsi_;
  std::filesystem::path state_file_;
  aka::UsimSqnState sqn_;
  std::deque<aka::Bytes<16>> rands_;
};

}  // namespace oag::client
