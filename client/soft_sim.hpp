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

/// A software SIM. SQN_MS lives in `state_file`: two checksummed slots written in place in turn
/// (pwrite + fdatasync, the newest valid slot wins), so a write costs one flush and a torn write
/// leaves the previous state. The RAND replay cache lives beside it in `<state_file>.rands`:
/// 16-byte records appended, compacted to the newest kRememberedRands when it doubles.
class SoftSim {
 public:
  /// Opens the SIM; loads `state_file` if it exists (throws std::runtime_error naming it when it
  /// is unreadable or malformed), else starts fresh and creates it on the first change.
  SoftSim(aka::SubscriberKeys keys, std::string imsi, std::filesystem::path state_file,
          unsigned ind_len = aka::kDefaultIndLen);
  ~SoftSim();
  SoftSim(SoftSim&& other) noexcept;
  SoftSim& operator=(SoftSim&&) = delete;
  SoftSim(const SoftSim&) = delete;
  SoftSim& operator=(const SoftSim&) = delete;

  /// Loads a SIM profile: JSON {"imsi","k","opc"|"op","algorithm"?,"ind_len"?,"state"?}; the
  /// state file defaults to `<profile>.state`. Throws std::runtime_error naming the field.
  static SoftSim load(const std::filesystem::path& profile);

  /// GSM: SRES and Kc for RAND (GSM-Milenage, or c2/c3 of the AKA functions).
  GsmAnswer run_gsm(const aka::Bytes<16>& rand) const;
  /// AKA: verifies AUTN; on success records SQN and remembers RAND, durably (fsync) before
  /// returning, as a USIM writes SQN_MS before it answers.
  aka::AkaOutcome run_aka(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn);

  /// True when this RAND was seen already (a replayed challenge).
  bool seen(const aka::Bytes<16>& rand) const;
  /// Remembers a GSM RAND (the newest kRememberedRands are kept). Written atomically but not
  /// flushed: a replayed challenge can never complete a mutual authentication (the callee's own
  /// challenge is fresh), so the cache saves vectors and billing, not security, and is not worth
  /// an fsync on every call. SQN_MS is always flushed.
  void remember(const aka::Bytes<16>& rand);

  /// The IMSI.
  const std::string& imsi() const { return imsi_; }
  /// SQN_MS state, for tests and diagnostics.
  const aka::UsimSqnState& sqn_state() const { return sqn_; }

  /// How many RANDs the replay cache keeps.
  static constexpr std::size_t kRememberedRands = 4096;

 private:
  void save_sqn();
  void append_rand(const aka::Bytes<16>& rand);

  aka::SubscriberKeys keys_;
  std::string imsi_;
  std::filesystem::path state_file_;
  aka::UsimSqnState sqn_;
  std::deque<aka::Bytes<16>> rands_;
  int fd_ = -1;                    // state_file_, open once written
  int rands_fd_ = -1;              // the replay cache, open for appending once written
  std::size_t rands_on_disk_ = 0;  // records in the replay cache file
  std::uint64_t counter_ = 0;      // of the newest slot
};

}  // namespace oag::client
