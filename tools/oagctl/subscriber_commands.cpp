// oagctl subscriber add | import | list | show | set | disable | enable | delete
#include <openssl/crypto.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/subscriber_csv.hpp"

namespace oag::tools {

namespace {

/// The secret options and the file options that replace them.
struct SecretOption {
  const char* name;  ///< "k"
  std::string RawSubscriber::*value;
  std::string RawSubscriber::*file;
};
constexpr SecretOption kSecretOptions[] = {{"k", &RawSubscriber::k, &RawSubscriber::k_file},
                                           {"op", &RawSubscriber::op, &RawSubscriber::op_file},
                                           {"opc", &RawSubscriber::opc, &RawSubscriber::opc_file}};

// Fills K, OP, OPc from their files (first line, whitespace trimmed; "-" is standard input,
// for one of them) and warns about each given in argv, which every local user can read in the
// process list. Returns the options whose values came from files.
std::set<std::string> read_secret_files(RawSubscriber& r) {
  std::set<std::string> from_file;
  bool stdin_used = false;
  for (const auto& o : kSecretOptions) {
    const std::string flag = std::string("--") + o.name;
    const std::string& file = r.*(o.file);
    if (file.empty()) {
      if (!(r.*(o.value)).empty())
        std::cerr << "oagctl: warning: " << flag
                  << " on the command line is visible to every local user in the process "
                     "list; use "
                  << flag << "-file FILE (or - for standard input)\n";
      continue;
    }
    if (!(r.*(o.value)).empty())
      throw UsageError(flag + "-file: give " + flag + " or " + flag + "-file, not both");
    std::string text;
    if (file == "-") {
      if (stdin_used)
        throw UsageError(flag + "-file: standard input is already read for another option");
      stdin_used = true;
      std::getline(std::cin, text);
    } else {
      std::ifstream in(file);
      if (!in) throw UsageError(flag + "-file: cannot read " + file);
      std::getline(in, text);
    }
    const auto b = text.find_first_not_of(" \t\r");
    const auto e = text.find_last_not_of(" \t\r");
    text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
    if (text.empty()) throw UsageError(flag + "-file: " + file + " has no value on its first line");
    r.*(o.value) = std::move(text);
    from_file.insert(o.name);
  }
  return from_file;
}

nlohmann::ordered_json to_json(const storage::Subscriber& s) {
  return {{"nai", s.nai},
          {"imsi", s.imsi},
          {"algo", aka::to_string(s.algorithm)},
          {"amf", aka::to_hex(s.amf)},
          {"sqn", s.seq_he},
          {"ind_len", s.ind_len},
          {"kinds", format_kinds(s.kinds)},
          {"state", storage::to_string(s.state)},
          {"created", format_time(s.created_ms)}};
}

std::string to_text(const storage::Subscriber& s) {
  return s.nai + "  imsi " + s.imsi + "  " + std::string(aka::to_string(s.algorithm)) + "  sqn " +
         std::to_string(s.seq_he) + "  " + format_kinds(s.kinds) + "  " +
         storage::to_string(s.state) + "\n";
}

struct ImportArgs {
  std::string file;
  bool skip_bad = false;
};

void run_import(const ImportArgs& a, Context& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  std::ifstream in(a.file);
  if (!in) throw UsageError("FILE: cannot read " + a.file);
  auto parsed = parse_subscriber_csv(in);
  if (!parsed.header_error.empty()) throw CommandFailed(a.file + ": " + parsed.header_error);
  auto& rows = parsed.rows;
  auto& row_lines = parsed.row_lines;
  auto& errors = parsed.errors;
  if (!errors.empty() && !a.skip_bad) {
    std::string all;
    for (const auto& e : errors) all += "\n  " + a.file + ": " + e;
    throw CommandFailed(std::to_string(errors.size()) +
                        " bad line(s), nothing imported (or use --skip-bad):" + all);
  }
  // Conflicts with rows already in the database come back with the index of the entry and the
  // column at fault.
  auto& subs = ctx.backend().subscribers();
  for (;;) {
    auto r = subs.import(rows);
    if (r.ok()) break;
    const auto& e = r.error();
    if (!e.index || *e.index >= rows.size()) throw CommandFailed(describe(e));
    const std::size_t i = *e.index;
    const std::string what = e.code == storage::Errc::conflict
                                 ? "taken by a subscriber in the database"
                                 : std::string(storage::to_string(e.code));
    const std::string msg = "line " + std::to_string(row_lines[i]) + ", field " + e.field + ": " +
                            what + " (" + rows[i].nai + ")";
    if (!a.skip_bad) throw CommandFailed(a.file + ": " + msg + " (nothing imported)");
    errors.push_back(msg);
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(i));
    row_lines.erase(row_lines.begin() + static_cast<std::ptrdiff_t>(i));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json j{
      {"imported", rows.size()}, {"skipped", errors.size()}, {"seconds", secs}};
  for (const auto& e : errors) j["skipped_lines"].push_back(e);
  std::string text = "imported " + std::to_string(rows.size()) + " subscriber(s) in " +
                     std::to_string(secs) + " s";
  if (!errors.empty()) text += ", skipped " + std::to_string(errors.size()) + ":";
  for (const auto& e : errors) text += "\n  " + a.file + ": " + e;
  ctx.print(j, text + "\n");
}

void add_raw_options(CLI::App* cmd, RawSubscriber& r) {
  cmd->add_option("--nai", r.nai, "user@realm")->required();
  cmd->add_option("--imsi", r.imsi, "IMSI, 6-15 digits (required with a SIM)");
  cmd->add_option("--algo", r.algo, "milenage, xor or tuak")->capture_default_str();
  cmd->add_option("--k", r.k, "K, hex (visible in the process list: prefer --k-file)");
  cmd->add_option("--k-file", r.k_file, "K, hex, from this file's first line (- for stdin)");
  cmd->add_option("--op", r.op, "OP (TOP for tuak), hex; the store keeps only OPc");
  cmd->add_option("--op-file", r.op_file, "OP from this file's first line (- for stdin)");
  cmd->add_option("--opc", r.opc, "OPc (TOPc for tuak), hex");
  cmd->add_option("--opc-file", r.opc_file, "OPc from this file's first line (- for stdin)");
  cmd->add_option("--amf", r.amf, "AMF, 4 hex digits")->capture_default_str();
  cmd->add_option("--sqn", r.sqn, "SEQ of the last vector the SIM accepted (decimal or 0x hex)")
      ->capture_default_str();
  cmd->add_option("--ind-len", r.ind_len, "IND length in bits")->capture_default_str();
  cmd->add_option("--kinds", r.kinds, "sim, aka or sim,aka")->capture_default_str();
}

}  // namespace

void add_subscriber_commands(CLI::App& app, Context& ctx) {
  auto* sub =
      app.add_subcommand("subscriber", "Provision subscribers (K/OPc are stored encrypted)");
  sub->require_subcommand(1);

  auto raw = std::make_shared<RawSubscriber>();
  auto* add = sub->add_subcommand("add", "Add one subscriber");
  add_raw_options(add, *raw);
  add->add_flag("--no-sim", raw->no_sim,
                "A password user without a SIM (roaming login): no IMSI, no keys; then "
                "`subscriber set-password`");
  add->callback([raw, &ctx] {
    storage::SubscriberInput in;
    const auto from_file = read_secret_files(*raw);
    try {
      in = build_subscriber(*raw);
    } catch (const FieldError& e) {
      throw UsageError("--" + (e.field == "ind_len" ? std::string("ind-len") : e.field) +
                       (from_file.count(e.field) ? "-file" : "") + ": " + e.message);
    }
    for (const auto& o : kSecretOptions)  // the copies of the secrets as typed
      OPENSSL_cleanse((*raw.*(o.value)).data(), (*raw.*(o.value)).size());
    const auto s = must(ctx.backend().subscribers().add(in));
    ctx.print(to_json(s), "added " + to_text(s));
  });

  auto ia = std::make_shared<ImportArgs>();
  auto* imp =
      sub->add_subcommand("import", "Import a CSV file in one transaction: all lines or none");
  imp->add_option("FILE", ia->file,
                  "CSV with a header row; columns nai,imsi,k and op or opc; optional "
                  "algo,amf,sqn,ind_len,kinds")
      ->required();
  imp->add_flag("--skip-bad", ia->skip_bad, "Import the good lines and report the bad ones");
  imp->callback([ia, &ctx] { run_import(*ia, ctx); });

  auto page = std::make_shared<std::pair<std::size_t, std::size_t>>(0, 100);
  auto* list = sub->add_subcommand("list", "List subscribers by NAI (no keys)");
  list->add_option("--offset", page->first, "Skip this many")->capture_default_str();
  list->add_option("--limit", page->second, "Show at most this many")->capture_default_str();
  list->callback([page, &ctx] {
    const auto v = must(ctx.backend().subscribers().list(page->first, page->second));
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    std::string text;
    for (const auto& s : v) {
      j.push_back(to_json(s));
      text += to_text(s);
    }
    ctx.print(j, text.empty() ? "no subscribers\n" : text);
  });

  auto nai = std::make_shared<std::string>();
  const auto with_nai = [&](const char* name, const char* help) {
    auto* c = sub->add_subcommand(name, help);
    c->add_option("--nai", *nai, "user@realm")->required();
    return c;
  };
  with_nai("show", "Show one subscriber (never its keys)")->callback([nai, &ctx] {
    const auto s = must(ctx.backend().subscribers().get(*nai));
    ctx.print(to_json(s), to_text(s));
  });
  auto seq = std::make_shared<std::string>();
  auto* set = with_nai("set", "Set the stored SQN (after a SIM was re-personalised)");
  set->add_option("--sqn", *seq, "SEQ of the last vector the SIM accepted")->required();
  set->callback([nai, seq, &ctx] {
    const auto v = parse_sqn_arg("--sqn", *seq);
    must(ctx.backend().subscribers().set_seq(*nai, v.value));
    ctx.print({{"nai", *nai}, {"sqn", v.value}},
              "set sqn of " + *nai + " to " + std::to_string(v.value) + "\n");
  });
  with_nai("disable", "Stop issuing vectors for a subscriber")->callback([nai, &ctx] {
    must(ctx.backend().subscribers().set_state(*nai, storage::State::suspended));
    ctx.print({{"nai", *nai}, {"state", "suspended"}}, "disabled " + *nai + "\n");
  });
  with_nai("enable", "Resume issuing vectors for a subscriber")->callback([nai, &ctx] {
    must(ctx.backend().subscribers().set_state(*nai, storage::State::active));
    ctx.print({{"nai", *nai}, {"state", "active"}}, "enabled " + *nai + "\n");
  });
  with_nai("delete", "Delete a subscriber and its vectors (billing stays)")->callback([nai, &ctx] {
    must(ctx.backend().subscribers().remove(*nai));
    ctx.print({{"nai", *nai}, {"deleted", true}}, "deleted " + *nai + "\n");
  });
  add_password_commands(*sub, ctx);
}

}  // namespace oag::tools
