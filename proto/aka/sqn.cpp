#include "proto/aka/sqn.hpp"

#include "proto/ident/ident.hpp"

#include <algorithm>
#include <stdexcept>

namespace oag::aka {

static_assert(ident::kMaxIndSlot == (1u << kMaxIndLen) - 1, "an IND slot must fit the longest IND");

Sqn Sqn::from_seq_ind(std::uint64_t seq, std::uint32_t ind, unsigned ind_len) {
  if (ind_len > kMaxIndLen)
    throw std::out_of_range("IND length above " + std::to_string(kMaxIndLen));
  if (ind >= (std::uint64_t{1} << ind_len)) throw std::out_of_range("IND does not fit its length");
  if (seq > (kMax >> ind_len)) throw std::out_of_range("SEQ exhausted");
  return Sqn{seq << ind_len | ind};
}

Sqn Sqn::from_bytes(const Bytes<6>& b) noexcept {
  std::uint64_t v = 0;
  for (auto x : b) v = v << 8 | x;
  return Sqn{v};
}

Sqn Sqn::from_value(std::uint64_t v) {
  if (v > kMax) throw std::out_of_range("SQN above 48 bits");
  return Sqn{v};
}

Bytes<6> Sqn::bytes() const noexcept {
  Bytes<6> b{};
  for (int i = 5; i >= 0; --i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * (5 - i)));
  return b;
}

UsimSqnState::UsimSqnState(unsigned ind_len, std::optional<std::uint64_t> delta)
    : UsimSqnState(ind_len,
                   std::vector<std::uint64_t>(std::size_t{1} << std::min(ind_len, kMaxIndLen), 0),
                   delta) {}

UsimSqnState::UsimSqnState(unsigned ind_len, std::vector<std::uint64_t> seq_ms,
                           std::optional<std::uint64_t> delta)
    : ind_len_(ind_len), delta_(delta), seq_ms_(std::move(seq_ms)) {
  if (ind_len_ > kMaxIndLen)
    throw std::invalid_argument("IND length above " + std::to_string(kMaxIndLen));
  if (seq_ms_.size() != (std::size_t{1} << ind_len_))
    throw std::invalid_argument("SEQ_MS array must have 2^ind_len elements");
}

UsimSqnState::Check UsimSqnState::check(Sqn sqn) const noexcept {
  const std::uint64_t seq = sqn.seq(ind_len_);
  if (seq <= seq_ms_[sqn.ind(ind_len_)]) return Check::replayed;
  if (delta_) {
    const std::uint64_t highest = *std::max_element(seq_ms_.begin(), seq_ms_.end());
    if (seq > highest && seq - highest > *delta_) return Check::out_of_range;
  }
  return Check::accepted;
}

void UsimSqnState::accept(Sqn sqn) noexcept {
  seq_ms_[sqn.ind(ind_len_)] = sqn.seq(ind_len_);
}

Sqn UsimSqnState::sqn_ms() const noexcept {
  const auto it = std::max_element(seq_ms_.begin(), seq_ms_.end());
  const auto ind = static_cast<std::uint64_t>(it - seq_ms_.begin());
  return Sqn{(*it << ind_len_) | ind};
}

}  // namespace oag::aka
