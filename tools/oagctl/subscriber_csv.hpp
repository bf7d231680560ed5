#pragma once
// Subscribers as an operator types them (oagctl subscriber add's options, or a CSV file's
// columns) and their checked form; the CSV import's parser. No database here: the fuzz target
// (tests/fuzz/subscriber_csv_fuzz.cpp) runs the parser alone.

#include <istream>
#include <string>
#include <vector>

#include "storage/types.hpp"

namespace oag::tools {

/// A subscriber as typed: every field a string, as on the command line or in a CSV column.
struct RawSubscriber {
  std::string nai, imsi, algo = "milenage", k, op, opc, amf = "8000", sqn = "0", ind_len = "5",
                         kinds = "sim,aka";
  bool no_sim = false;                    ///< a password user: no IMSI, no keys
  std::string k_file, op_file, opc_file;  ///< where K, OP, OPc come from instead of argv
};

/// A bad field: which one and why.
struct FieldError {
  std::string field, message;
};

/// Checks a typed subscriber (throws FieldError naming the field at fault).
storage::SubscriberInput build_subscriber(const RawSubscriber& r);

/// What a CSV file held: the good rows (with the line each came from), and one message per
/// bad line ("line 7, field k: ..."); or a header error (nothing else is read then).
struct SubscriberCsv {
  std::vector<storage::SubscriberInput> rows;  ///< checked, no NAI or IMSI twice
  std::vector<std::size_t> row_lines;          ///< the line of each row, from 1
  std::vector<std::string> errors;             ///< one per bad line
  std::string header_error;                    ///< "header: missing column \"k\"", or empty
};

/// Reads a CSV with a header row (columns nai,imsi,k and op or opc; optional algo, amf, sqn,
/// ind_len, kinds; `#` starts a comment line). Never throws for bad content.
SubscriberCsv parse_subscriber_csv(std::istream& in);

}  // namespace oag::tools
