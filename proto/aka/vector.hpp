#pragma once
// The home side of AKA (TS 33.102 §6.3): quintets, GSM triplets and resynchronisation, for any
// of the supported algorithms.

#include <optional>
#include <string_view>

#include "proto/aka/bytes.hpp"
#include "proto/aka/sqn.hpp"
#include "proto/aka/tuak.hpp"

namespace oag::aka {

/// The algorithm set a subscriber's SIM runs.
enum class Algorithm {
  milenage,  ///< TS 35.206 (128-bit K and OPc)
  xor_test,  ///< TS 34.108 §8.1.2, test SIMs only
  tuak,      ///< TS 35.231 (128- or 256-bit K, 256-bit TOPc)
};

/// "milenage", "xor" or "tuak".
std::string_view to_string(Algorithm a) noexcept;
/// Parses "milenage", "xor" or "tuak".
std::optional<Algorithm> parse_algorithm(std::string_view s) noexcept;

/// A subscriber's long-term secrets and algorithm parameters.
struct SubscriberKeys {
  Algorithm algorithm = Algorithm::milenage;  ///< algorithm set
  SecretVec<32> k;                            ///< K: 16 bytes, or 16/32 for TUAK
  SecretVec<32> opc;                          ///< OPc (16), TOPc (32) for TUAK, empty for XOR
  tuak::Params tuak;                          ///< TUAK output lengths and iterations

  /// Keys from K and OP (or TOP): computes OPc; throws std::invalid_argument on bad lengths.
  static SubscriberKeys from_op(Algorithm a, ByteView k, ByteView op, tuak::Params p = {});
  /// Keys from K and OPc (or TOPc; ignored for XOR); throws std::invalid_argument on bad lengths.
  static SubscriberKeys from_opc(Algorithm a, ByteView k, ByteView opc, tuak::Params p = {});
  /// Throws std::invalid_argument naming what does not fit the algorithm.
  void validate() const;
};

/// An authentication vector for UMTS/LTE AKA.
struct Quintet {
  Bytes<16> rand{};    ///< RAND
  Bytes<16> autn{};    ///< (SQN ⊕ AK) ‖ AMF ‖ MAC-A
  SecretVec<32> xres;  ///< XRES (8 bytes for Milenage, 16 for XOR, 4..32 for TUAK)
  Secret<16> ck;       ///< CK
  Secret<16> ik;       ///< IK
  Secret<6> ak;        ///< AK
  Bytes<8> mac_a{};    ///< MAC-A
  Sqn sqn;             ///< SQN the vector carries

  /// SQN ⊕ AK, the first 6 bytes of AUTN (input of CK'/IK', KAUSF).
  Bytes<6> sqn_xor_ak() const noexcept;
};

/// A GSM triplet.
struct Triplet {
  Bytes<16> rand{};  ///< RAND
  Secret<4> sres;    ///< SRES
  Secret<8> kc;      ///< Kc
};

/// AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S.
using Auts = Bytes<14>;

/// Computes the quintet for RAND, SQN and AMF.
Quintet generate_quintet(const SubscriberKeys& keys, const Bytes<16>& rand, Sqn sqn,
                         const Bytes<2>& amf);

/// Computes the GSM triplet for RAND: GSM-Milenage for Milenage, c2/c3 of the quintet otherwise.
Triplet generate_triplet(const SubscriberKeys& keys, const Bytes<16>& rand);

/// Builds AUTS for SQN_MS (the USIM side of a synchronisation failure; MAC-S with AMF 0000).
Auts build_auts(const SubscriberKeys& keys, const Bytes<16>& rand, Sqn sqn_ms);

/// Verifies MAC-S of AUTS and recovers SQN_MS; nullopt when MAC-S is wrong.
std::optional<Sqn> verify_auts(const SubscriberKeys& keys, const Bytes<16>& rand, const Auts& auts);

}  // namespace oag::aka
