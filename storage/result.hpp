#pragma once
// Outcomes of store operations. Not found, not allowed / conflict and backend failure are kept
// apart (as osmo-hlr keeps ENOENT / ENOKEY / EIO), so that each maps to one HTTP status.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace oag::storage {

/// Why an operation did not succeed.
enum class Errc {
  not_found,        ///< no such subscriber / vector / agreement (404)
  disabled,         ///< the subscriber or agreement exists but is not active (403)
  not_allowed,      ///< the kind is not enabled for this subscriber (422)
  conflict,         ///< unique key taken, or an idempotency key reused for another request (409)
  invalid,          ///< a value out of range (400)
  bad_auts,         ///< MAC-S of AUTS did not verify (400)
  exhausted,        ///< SEQ would pass 48 bits (409)
  quota_exhausted,  ///< the agreement's quota for this period is used up (429)
  unavailable,      ///< the backend failed: disk, lock, corrupt data (503)
};

/// Stable lower-case name of an error code ("not-found", ...), used in problem types and logs.
const char* to_string(Errc e) noexcept;

/// An error: a code, a detail for people, and the structured parts a caller acts on (the field
/// and, for a batch, the index of the failing entry), so that no caller parses the detail.
/// The detail never holds a key or a RES.
struct Error {
  /// An error of `c` with `detail`, naming `field` (and the 0-based `index` of a batch entry).
  Error(Errc c, std::string d, std::string f = {}, std::optional<std::size_t> i = std::nullopt)
      : code(c), detail(std::move(d)), field(std::move(f)), index(i) {}
  Errc code;                         ///< what kind of failure
  std::string detail;                ///< human-readable, names the field or object
  std::string field;                 ///< the field or column at fault ("" when none)
  std::optional<std::size_t> index;  ///< 0-based entry of a batch (import) that failed
};

/// Thrown inside the store to abort the current request only.
class StoreError : public std::runtime_error {
 public:
  /// Wraps `e`.
  explicit StoreError(Error e) : std::runtime_error(e.detail), error_(std::move(e)) {}
  /// The wrapped error.
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// A value or an Error.
template <typename T>
class Result {
 public:
  /// Success.
  Result(T v) : v_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  /// Failure.
  Result(Error e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
  /// True on success.
  bool ok() const noexcept { return v_.index() == 0; }
  /// The value; throws StoreError on failure.
  T& value() {
    if (!ok()) throw StoreError(error());
    return std::get<0>(v_);
  }
  /// The value; throws StoreError on failure.
  const T& value() const {
    if (!ok()) throw StoreError(error());
    return std::get<0>(v_);
  }
  /// The error (only valid when !ok()).
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation with no value.
struct Done {};

}  // namespace oag::storage
