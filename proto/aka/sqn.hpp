#pragma once
// Sequence numbers SQN = SEQ ‖ IND (TS 33.102 Annex C.3.2) and the USIM's freshness check
// (Annex C.2): one SEQ_MS per IND slot, so several AG instances never contend.

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// Default IND length in bits (TS 33.102 Annex C.3.2 suggests 5).
inline constexpr unsigned kDefaultIndLen = 5;
/// Largest IND length accepted: a USIM keeps 2^ind_len array elements.
inline constexpr unsigned kMaxIndLen = 10;

/// A 48-bit sequence number.
struct Sqn {
  /// Largest 48-bit value.
  static constexpr std::uint64_t kMax = (std::uint64_t{1} << 48) - 1;

  std::uint64_t value = 0;  ///< 48 bits, SEQ in the high bits, IND in the low ind_len bits

  /// SQN from SEQ and IND; throws std::out_of_range when either does not fit.
  static Sqn from_seq_ind(std::uint64_t seq, std::uint32_t ind, unsigned ind_len);
  /// SQN from its 6 big-endian bytes.
  static Sqn from_bytes(const Bytes<6>& b) noexcept;
  /// SQN from a value; throws std::out_of_range above 48 bits.
  static Sqn from_value(std::uint64_t v);

  /// SEQ part.
  std::uint64_t seq(unsigned ind_len) const noexcept { return value >> ind_len; }
  /// IND part.
  std::uint32_t ind(unsigned ind_len) const noexcept {
    return static_cast<std::uint32_t>(value & ((std::uint64_t{1} << ind_len) - 1));
  }
  /// 6 big-endian bytes.
  Bytes<6> bytes() const noexcept;

  bool operator==(const Sqn&) const = default;
  auto operator<=>(const Sqn&) const = default;
};

/// The USIM's record of accepted sequence numbers (TS 33.102 Annex C.2).
class UsimSqnState {
 public:
  /// Outcome of the freshness check.
  enum class Check {
    accepted,      ///< SEQ > SEQ_MS(IND) and within Δ
    replayed,      ///< SEQ ≤ SEQ_MS(IND): this or a later SQN of that slot was already used
    out_of_range,  ///< SEQ − SEQ_MS > Δ (only when a Δ limit is set)
  };

  /// A fresh USIM: every SEQ_MS(i) = 0. `delta` is the optional Δ limit of Annex C.2.2.
  explicit UsimSqnState(unsigned ind_len = kDefaultIndLen, std::optional<std::uint64_t> delta = {});
  /// A USIM restored from its array (size must be 2^ind_len; throws std::invalid_argument).
  UsimSqnState(unsigned ind_len, std::vector<std::uint64_t> seq_ms,
               std::optional<std::uint64_t> delta = {});

  /// Annex C.2.2 check of a received SQN; changes nothing.
  Check check(Sqn sqn) const noexcept;
  /// Records `sqn` as accepted: SEQ_MS(IND) = SEQ.
  void accept(Sqn sqn) noexcept;
  /// SQN_MS to send in AUTS: the highest accepted SEQ with its IND (Annex C.2.1).
  Sqn sqn_ms() const noexcept;
  /// IND length in bits.
  unsigned ind_len() const noexcept { return ind_len_; }
  /// SEQ_MS per IND slot, for persisting.
  const std::vector<std::uint64_t>& seq_ms() const noexcept { return seq_ms_; }

 private:
  unsigned ind_len_;
  std::optional<std::uint64_t> delta_;
  std::vector<std::uint64_t> seq_ms_;
};

}  // namespace oag::aka
