#pragma once
// SDP offers and answers with SRTP keys by SDES (RFC 4568 `a=crypto`): safe only when the SDP
// travels encrypted to the peer (DESIGN §8's S/MIME body). Each side sends the key it will
// encrypt its own media with; both then know both keys, and a fingerprint over the two shows
// the user at each end that they agree.

#include <optional>
#include <string>
#include <string_view>

#include "proto/aka/bytes.hpp"

namespace oag::sip {

/// The SRTP suite offered: AES-CM 128-bit key, 112-bit salt, 80-bit HMAC-SHA1 tag.
inline constexpr std::string_view kSrtpSuite = "AES_CM_128_HMAC_SHA1_80";

/// An SRTP master key and salt (16 + 14 bytes).
using SrtpKey = aka::Secret<30>;

/// A fresh key from the OpenSSL DRBG.
SrtpKey new_srtp_key();

/// An audio offer/answer: `o=` with `session_id`, `c=`/`m=` at host:port (RTP/SAVP, PCMU) and
/// `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<key‖salt>`.
std::string sdp_with_key(std::string_view host, unsigned short port, std::string_view session_id,
                         const SrtpKey& key);

/// The key of the first `a=crypto` line with kSrtpSuite; nullopt (with `why`) when none.
std::optional<SrtpKey> sdes_key(std::string_view sdp, std::string* why = nullptr);

/// 16 hex digits: SHA-256("oag1 media" ‖ caller's key ‖ callee's key), the same at both ends.
std::string media_fingerprint(const SrtpKey& caller, const SrtpKey& callee);

}  // namespace oag::sip
