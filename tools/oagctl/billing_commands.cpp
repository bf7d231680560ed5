// oagctl billing export | verify | reconcile
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "proto/aka/hex.hpp"
#include "proto/login/charge.hpp"
#include "tools/oagctl/billing_io.hpp"
#include "tools/oagctl/commands.hpp"

namespace oag::tools {

namespace {

struct ExportArgs {
  std::string from, to, format = "csv", role, agreement, output;
};

void run_export(const ExportArgs& a, Context& ctx) {
  const std::int64_t from = a.from.empty() ? 0 : parse_time_arg("--from", a.from);
  const std::int64_t to = a.to.empty() ? INT64_MAX : parse_time_arg("--to", a.to);
  if (to <= from) throw UsageError("--to: must be after --from");
  std::optional<storage::Role> role;
  if (!a.role.empty()) {
    if (a.role == "local")
      role = storage::Role::local;
    else if (a.role == "sold")
      role = storage::Role::sold;
    else if (a.role == "bought")
      role = storage::Role::bought;
    else
      throw UsageError("--role: expected local, sold or bought");
  }
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::trunc);
    if (!file) throw UsageError("--output: cannot write " + a.output);
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  billing::Writer w(out, a.format == "jsonl" ? billing::Format::jsonl : billing::Format::csv);
  must(ctx.backend().billing().for_each(from, to, [&](const storage::BillingRecord& r) {
    if (role && r.role != *role) return true;
    if (!a.agreement.empty() && r.agreement != a.agreement) return true;
    w.write(r);
    return true;
  }));
  w.finish();
  if (!out) throw CommandFailed("writing the export failed");
  if (!a.output.empty()) {
    const auto& s = w.summary();
    std::cerr << "exported " << s.records << " record(s) to " << a.output << '\n';
  }
}

struct Key {
  storage::Kind kind;
  unsigned count;
  std::int64_t price;
  std::string currency;
};

// Matches our `mine` records against their `theirs` records by request_id (issue events).
void match(const std::vector<storage::BillingRecord>& ours,
           const std::vector<storage::BillingRecord>& theirs, storage::Role mine,
           storage::Role their_role, nlohmann::ordered_json& report, std::size_t& matched) {
  std::map<std::string, const storage::BillingRecord*> a, b;
  for (const auto& r : ours)
    if (r.role == mine && r.event == "issue") a[r.request_id] = &r;
  for (const auto& r : theirs)
    if (r.role == their_role && r.event == "issue") b[r.request_id] = &r;
  const std::string label =
      std::string(storage::to_string(mine)) + "/" + storage::to_string(their_role);
  // A sold record without its bought one is "unconfirmed", not an error: the seller committed
  // before answering and the buyer commits before delivering, so the buyer failed (died, timed
  // out, gave up) between the two and nothing reached an endpoint. A bought record without its
  // sold one has no such explanation.
  const auto unconfirmed = [&](const std::string& id, const char* side,
                               const storage::BillingRecord& r) {
    report["unconfirmed"].push_back(
        {{"request_id", id}, {"sold_by", side}, {"seq", r.seq}, {"rand_sha256", r.rand_sha256}});
  };
  for (const auto& [id, r] : a) {
    const auto it = b.find(id);
    if (it == b.end()) {
      if (mine == storage::Role::sold)
        unconfirmed(id, "ours", *r);
      else
        report["missing_in_theirs"].push_back(
            {{"request_id", id}, {"ours", label}, {"seq", r->seq}});
      continue;
    }
    const auto* t = it->second;
    const auto diff = [&](const char* field, const std::string& x, const std::string& y) {
      if (x != y)
        report["mismatched"].push_back(
            {{"request_id", id}, {"field", field}, {"ours", x}, {"theirs", y}});
      return x != y;
    };
    bool bad = diff("kind", storage::to_string(r->kind), storage::to_string(t->kind));
    bad |= diff("count", std::to_string(r->count), std::to_string(t->count));
    bad |=
        diff("unit_price", format_price(r->unit_price_micros), format_price(t->unit_price_micros));
    bad |= diff("currency", r->currency, t->currency);
    matched += !bad;
  }
  for (const auto& [id, t] : b)
    if (!a.count(id)) {
      if (their_role == storage::Role::sold)
        unconfirmed(id, "theirs", *t);
      else
        report["missing_in_ours"].push_back(
            {{"request_id", id}, {"theirs", label}, {"seq", t->seq}});
    }
}

std::vector<storage::BillingRecord> load(const std::string& arg, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(arg + ": cannot read " + path);
  try {
    return billing::read(in, path);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
}

}  // namespace

void add_billing_commands(CLI::App& app, Context& ctx) {
  auto* bill =
      app.add_subcommand("billing", "Billing records: export, verify, reconcile with a peer");
  bill->require_subcommand(1);

  auto e = std::make_shared<ExportArgs>();
  auto* ex = bill->add_subcommand("export", "Stream billing records, then a summary line");
  ex->add_option("--from", e->from,
                 "From (inclusive): YYYY-MM-DD or RFC 3339 (default: the start)");
  ex->add_option("--to", e->to, "To (exclusive): YYYY-MM-DD or RFC 3339 (default: now)");
  ex->add_option("--format", e->format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  ex->add_option("--role", e->role, "Only local, sold or bought records");
  ex->add_option("--agreement", e->agreement, "Only records under this agreement");
  ex->add_option("--output", e->output, "Write to this file instead of standard output");
  ex->callback([e, &ctx] { run_export(*e, ctx); });

  bill->add_subcommand("verify",
                       "Walk every chain (one per instance): sequence gap-free, every hash "
                       "recomputed")
      ->callback([&ctx] {
        const auto r = must(ctx.backend().billing().verify());
        nlohmann::ordered_json j{{"records", r.records}, {"ok", !r.first_bad}};
        j["chains"] = nlohmann::ordered_json::array();
        std::string text;
        for (const auto& c : r.chains) {
          nlohmann::ordered_json cj{
              {"chain", c.chain}, {"records", c.records}, {"ok", !c.first_bad}};
          if (c.first_bad) {
            cj["first_bad"] = *c.first_bad;
            cj["reason"] = c.reason;
            text += "chain " + c.chain + " BROKEN at record " + std::to_string(*c.first_bad) +
                    ": " + c.reason + "\n";
          } else {
            cj["head_hash"] = c.head_hash;
            text += "chain " + c.chain + " intact: " + std::to_string(c.records) +
                    " record(s), head " + c.head_hash + "\n";
          }
          j["chains"].push_back(cj);
        }
        if (r.chains.empty()) text = "no billing records\n";
        if (r.first_bad) {
          j["first_bad"] = *r.first_bad;
          j["bad_chain"] = r.bad_chain;
          j["reason"] = r.reason;
          ctx.print(j, text);
          throw CommandFailed("billing chain " + r.bad_chain + " broken at record " +
                              std::to_string(*r.first_bad));
        }
        ctx.print(j, text);
      });

  auto files = std::make_shared<std::pair<std::string, std::string>>();
  auto* rec = bill->add_subcommand(
      "reconcile", "Match our bought/sold records against a peer's export by request_id");
  rec->add_option("OURS", files->first, "Our export (csv or jsonl)")->required();
  rec->add_option("THEIRS", files->second, "The peer's export (csv or jsonl)")->required();
  rec->callback([files, &ctx] {
    const auto ours = load("OURS", files->first);
    const auto theirs = load("THEIRS", files->second);
    nlohmann::ordered_json report;
    report["missing_in_theirs"] = nlohmann::ordered_json::array();
    report["missing_in_ours"] = nlohmann::ordered_json::array();
    report["mismatched"] = nlohmann::ordered_json::array();
    report["unconfirmed"] = nlohmann::ordered_json::array();
    std::size_t matched = 0;
    match(ours, theirs, storage::Role::bought, storage::Role::sold, report, matched);
    match(ours, theirs, storage::Role::sold, storage::Role::bought, report, matched);
    report["matched"] = matched;
    const auto differences = report["missing_in_theirs"].size() + report["missing_in_ours"].size() +
                             report["mismatched"].size();
    report["ok"] = differences == 0;
    std::string text = "matched " + std::to_string(matched) + " record(s)";
    if (differences == 0) {
      text += "; no differences\n";
    } else {
      text += "; " + std::to_string(report["missing_in_theirs"].size()) + " missing in theirs, " +
              std::to_string(report["missing_in_ours"].size()) + " missing in ours, " +
              std::to_string(report["mismatched"].size()) + " mismatched\n";
      for (const auto& m : report["missing_in_theirs"])
        text += "  missing in theirs: " + m["request_id"].get<std::string>() + "\n";
      for (const auto& m : report["missing_in_ours"])
        text += "  missing in ours: " + m["request_id"].get<std::string>() + "\n";
      for (const auto& m : report["mismatched"])
        text += "  mismatched " + m["request_id"].get<std::string>() + " " +
                m["field"].get<std::string>() + ": " + m["ours"].get<std::string>() + " vs " +
                m["theirs"].get<std::string>() + "\n";
    }
    if (!report["unconfirmed"].empty()) {
      text += std::to_string(report["unconfirmed"].size()) +
              " unconfirmed (sold, never recorded as bought: the buyer failed between the "
              "seller's answer and its own commit, so nothing was delivered; not billable):\n";
      for (const auto& m : report["unconfirmed"])
        text += "  unconfirmed: " + m["request_id"].get<std::string>() + " sold by " +
                m["sold_by"].get<std::string>() + "\n";
    }
    ctx.print(report, text);
    if (differences) throw CommandFailed(std::to_string(differences) + " difference(s)");
  });

  auto vc = std::make_shared<std::pair<std::string, std::string>>();
  auto* verify_charge = bill->add_subcommand(
      "verify-charge",
      "Prove a charge from its exported record alone: the order, its signature, the certificate");
  verify_charge->add_option("RECORD", vc->first, "A file with the record (csv or jsonl export)")
      ->required();
  verify_charge
      ->add_option("--ca-file", vc->second,
                   "The visitor's home user CA (the anchor the charge is checked against)")
      ->required();
  verify_charge->callback([vc, &ctx] {
    const auto records = load("RECORD", vc->first);
    std::ifstream ca(vc->second);
    if (!ca) throw UsageError("--ca-file: cannot read " + vc->second);
    const std::string anchor((std::istreambuf_iterator<char>(ca)),
                             std::istreambuf_iterator<char>());
    std::size_t n = 0;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    std::string text;
    for (const auto& r : records) {
      if (r.kind != storage::BillingKind::charge) continue;
      ++n;
      const auto d = login::parse_charge_detail(r.detail);
      std::string why;
      if (!d) {
        why = "detail: not a charge's order, signature and certificate";
      } else if (auto bad = login::verify_charge(d->order, d->certificate, anchor, r.requester)) {
        why = *bad;
      } else if (aka::to_hex(login::sha256(login::canonical_order(d->order))) != r.rand_sha256 ||
                 d->order.order_id != r.request_id ||
                 login::amount_micros(d->order.amount) != r.unit_price_micros ||
                 d->order.currency != r.currency) {
        why = "record: its columns are not the signed order's";
      }
      out.push_back({{"chain", r.chain},
                     {"seq", r.seq},
                     {"order_id", r.request_id},
                     {"valid", why.empty()},
                     {"reason", why}});
      if (!why.empty()) {
        ctx.print(out, text + "charge " + r.request_id + " (record " + std::to_string(r.seq) +
                           "): NOT proven: " + why + "\n");
        throw CommandFailed("charge " + r.request_id + ": " + why);
      }
      text += "charge " + r.request_id + " of " + d->order.amount + " " + d->order.currency +
              " for \"" + d->order.item + "\" signed by " + r.requester + " (record " +
              std::to_string(r.seq) + "): valid\n";
    }
    if (n == 0) throw CommandFailed("RECORD: no charge record in " + vc->first);
    ctx.print(out, text);
  });
}

}  // namespace oag::tools
