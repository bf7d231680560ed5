// oagctl agreement add | list | show | suspend | resume | revoke
#include <chrono>

#include "tools/oagctl/commands.hpp"

namespace oag::tools {

namespace {

struct AgreementArgs {
  std::string id, url, ca_file, pin, kinds = "sim,aka", period = "month", price = "0",
                                     currency = "EUR", from, until, user_ca_file;
  std::vector<std::string> realms;
  double rate = 10;
  unsigned burst = 20;
  std::uint64_t quota = 0;
};

nlohmann::ordered_json to_json(const storage::Agreement& a) {
  return {{"id", a.id},
          {"peer_realms", a.peer_realms},
          {"peer_url", a.peer_url},
          {"trust_ca_file", a.trust_ca_file},
          {"trust_spki_sha256", a.trust_spki_sha256},
          {"kinds", format_kinds(a.kinds)},
          {"rate_per_s", a.rate_per_s},
          {"burst", a.burst},
          {"quota", a.quota},
          {"quota_period", a.quota_period},
          {"price", format_price(a.price_micros)},
          {"currency", a.currency},
          {"valid_from", format_time(a.valid_from_ms)},
          {"valid_until",
           a.valid_until_ms ? nlohmann::ordered_json(format_time(a.valid_until_ms)) : nullptr},
          {"state", storage::to_string(a.state)},
          {"user_ca_file", a.user_ca_file}};
}

std::string to_text(const storage::Agreement& a) {
  std::string realms;
  for (const auto& r : a.peer_realms) realms += (realms.empty() ? "" : ",") + r;
  return a.id + "  " + realms + "  " + a.peer_url + "  " + format_kinds(a.kinds) + "  " +
         format_price(a.price_micros) + " " + a.currency + "/vector  " +
         storage::to_string(a.state) + "\n";
}

// Maps a store validation error ("currency: ...") to the option that carries the field.
std::string option_of(const std::string& detail) {
  static const std::pair<const char*, const char*> map[] = {{"peer_realms:", "--realm"},
                                                            {"peer_url:", "--url"},
                                                            {"trust:", "--ca-file/--spki-pin"},
                                                            {"trust_spki_sha256:", "--spki-pin"},
                                                            {"kinds:", "--kinds"},
                                                            {"rate_per_s:", "--rate"},
                                                            {"burst:", "--burst"},
                                                            {"quota_period:", "--period"},
                                                            {"price:", "--price"},
                                                            {"currency:", "--currency"},
                                                            {"valid_until:", "--valid-until"},
                                                            {"id:", "--id"},
                                                            {"user_ca_file:", "--user-ca-file"}};
  for (const auto& [field, opt] : map)
    if (detail.rfind(field, 0) == 0) return opt + detail.substr(std::string(field).size() - 1);
  return detail;
}

}  // namespace

void add_agreement_commands(CLI::App& app, Context& ctx) {
  auto* ag = app.add_subcommand("agreement", "Agreements with peer operators");
  ag->require_subcommand(1);

  auto a = std::make_shared<AgreementArgs>();
  auto* add = ag->add_subcommand(
      "add", "Sign an agreement: which realms, how to reach and trust the peer, price");
  add->add_option("--id", a->id, "Agreement identifier, e.g. op-a--op-b-2026")->required();
  add->add_option("--realm", a->realms, "Peer realm (repeat for several)")->required();
  add->add_option("--url", a->url, "Peer AG federation URL, https://host:port")->required();
  add->add_option("--ca-file", a->ca_file, "CA the peer's federation certificate must chain to");
  add->add_option("--spki-pin", a->pin, "SHA-256 of the peer certificate's SPKI, 64 hex digits");
  add->add_option("--kinds", a->kinds,
                  "What the agreement covers: sim, aka, login, certificates, comma-separated")
      ->capture_default_str();
  add->add_option("--user-ca-file", a->user_ca_file,
                  "The peer's endpoint CA: anchor of its users' certificates (kinds login, "
                  "certificates)");
  add->add_option("--rate", a->rate, "Vectors per second (token bucket rate)")
      ->capture_default_str();
  add->add_option("--burst", a->burst, "Token bucket depth")->capture_default_str();
  add->add_option("--quota", a->quota, "Vectors per period, 0 = unlimited")->capture_default_str();
  add->add_option("--period", a->period, "Quota period: day or month")->capture_default_str();
  add->add_option("--price", a->price, "Price per vector, decimal")->capture_default_str();
  add->add_option("--currency", a->currency, "ISO 4217 currency")->capture_default_str();
  add->add_option("--valid-from", a->from, "Start (YYYY-MM-DD or RFC 3339; default now)");
  add->add_option("--valid-until", a->until, "End (YYYY-MM-DD or RFC 3339; default open)");
  add->callback([a, &ctx] {
    storage::Agreement g;
    g.id = a->id;
    g.peer_realms = a->realms;
    g.peer_url = a->url;
    g.trust_ca_file = a->ca_file;
    g.trust_spki_sha256 = a->pin;
    g.kinds = parse_kinds_arg("--kinds", a->kinds);
    g.user_ca_file = a->user_ca_file;
    g.rate_per_s = a->rate;
    g.burst = a->burst;
    g.quota = a->quota;
    g.quota_period = a->period;
    g.price_micros = parse_price_arg("--price", a->price);
    g.currency = a->currency;
    g.valid_from_ms = a->from.empty() ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count()
                                      : parse_time_arg("--valid-from", a->from);
    g.valid_until_ms = a->until.empty() ? 0 : parse_time_arg("--valid-until", a->until);
    auto r = ctx.backend().agreements().add(g);
    if (!r.ok() && r.error().code == storage::Errc::invalid)
      throw UsageError(option_of(r.error().detail));
    const auto& got = must(r);
    ctx.print(to_json(got), "added agreement " + to_text(got));
  });

  ag->add_subcommand("list", "List agreements")->callback([&ctx] {
    const auto v = must(ctx.backend().agreements().list());
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    std::string text;
    for (const auto& g : v) {
      j.push_back(to_json(g));
      text += to_text(g);
    }
    ctx.print(j, text.empty() ? "no agreements\n" : text);
  });

  auto id = std::make_shared<std::string>();
  const auto with_id = [&](const char* name, const char* help) {
    auto* c = ag->add_subcommand(name, help);
    c->add_option("--id", *id, "Agreement identifier")->required();
    return c;
  };
  with_id("show", "Show one agreement")->callback([id, &ctx] {
    const auto g = must(ctx.backend().agreements().get(*id));
    ctx.print(to_json(g), to_text(g));
  });
  const auto set_state = [id, &ctx](storage::State s) {
    auto& store = ctx.backend().agreements();
    const auto g = must(store.get(*id));
    if (g.state == storage::State::revoked && s != storage::State::revoked)
      throw CommandFailed("agreement " + *id +
                          " is revoked; revocation is final (add a new agreement)");
    must(store.set_state(*id, s));
    ctx.print({{"id", *id}, {"state", storage::to_string(s)}},
              "agreement " + *id + " is now " + storage::to_string(s) + "\n");
  };
  with_id("suspend", "Stop serving and buying under an agreement")->callback([set_state] {
    set_state(storage::State::suspended);
  });
  with_id("resume", "Resume a suspended agreement")->callback([set_state] {
    set_state(storage::State::active);
  });
  with_id("revoke", "End an agreement for good")->callback([set_state] {
    set_state(storage::State::revoked);
  });
}

}  // namespace oag::tools
