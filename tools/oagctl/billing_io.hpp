#pragma once
// The billing export formats (CSV and JSON lines) and reading them back for reconciliation.

#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "storage/types.hpp"

namespace oag::tools::billing {

/// Export format.
enum class Format { csv, jsonl };

/// What was written of one chain.
struct ChainSummary {
  std::uint64_t records = 0;                  ///< records written
  std::uint64_t first_seq = 0, last_seq = 0;  ///< sequence range
  std::string head_hash;                      ///< hash of the last record written
};

/// Totals over what was written, for the summary line.
struct Summary {
  std::uint64_t records = 0;                   ///< records written
  std::map<std::string, ChainSummary> chains;  ///< per chain (instance)
  std::map<std::string, std::int64_t> totals;  ///< per currency: Σ count × unit price (micros)
};

/// Streams records in `format`, then a summary line.
class Writer {
 public:
  /// Writes the CSV header at once.
  Writer(std::ostream& out, Format f);
  /// One record.
  void write(const storage::BillingRecord& r);
  /// The summary line (CSV: a line starting with '#'; JSONL: {"summary": ...}).
  void finish();
  /// Totals so far.
  const Summary& summary() const noexcept { return sum_; }

 private:
  std::ostream& out_;
  Format format_;
  Summary sum_;
};

/// Reads an export (CSV or JSON lines, detected from its first character); summary lines are
/// skipped. Throws std::runtime_error naming the line of a malformed record.
std::vector<storage::BillingRecord> read(std::istream& in, const std::string& name);

}  // namespace oag::tools::billing
