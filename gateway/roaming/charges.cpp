#include "gateway/roaming/charges.hpp"

#include <nlohmann/json.hpp>

#include "gateway/log.hpp"
#include "proto/aka/hex.hpp"
#include "proto/login/charge.hpp"

namespace oag::gateway::roaming {

void ChargesApi::charge(Call call, login::ChargeOrder o, Reply reply) {
  const auto who = std::get<VisitorPrincipal>(call.who);
  const auto& route = call.route;
  const std::int64_t now_s = svc_.clock() / 1000;
  if (o.time > now_s + login::kMaxSkewS || o.time < now_s - login::kMaxSkewS)
    return reply(
        problem(wire::invalid_field("time", "more than 300 s from this gateway's clock"), route));
  svc_.offload(Lane::lookup, reply, route, [this, who, o, route, reply] {
    const auto rt = svc_.runtime.get();
    // The anchor: the user CA our agreement with her home operator names; at home, our own.
    std::string anchor_file = rt->pki.endpoint_ca_cert;
    std::string home_realm = rt->realm;
    if (!who.agreement.empty()) {
      const auto a = svc_.store.agreements().get(who.agreement);
      if (!a.ok()) return reply(store_problem(a.error(), route));
      if (!storage::in_force(a.value(), wall_ms()) || a.value().user_ca_file.empty())
        return reply(problem({403, "no-agreement", "No agreement covers charges of this visitor",
                              "agreement " + who.agreement + ": not in force or no user CA"},
                             route));
      anchor_file = a.value().user_ca_file;
      home_realm = std::string(ident::realm_of(who.nai));
    }
    if (const auto bad =
            login::verify_charge(o, who.certificate, read_text_file(anchor_file), who.nai)) {
      log::info(log::event::kLoginRefused, "charge refused",
                {{"nai", who.nai}, {"order_id", o.order_id}, {"why", *bad}});
      return reply(
          problem({403, "bad-signature", "The order's signature is not acceptable", *bad}, route));
    }
    storage::ChargeRecord c;
    c.session = who.session;
    c.nai = who.nai;
    c.agreement = who.agreement;
    c.home_realm = home_realm;
    c.visited_realm = rt->realm;
    c.order_id = o.order_id;
    c.amount_micros = login::amount_micros(o.amount);
    c.currency = o.currency;
    c.order_sha256 = aka::to_hex(login::sha256(login::canonical_order(o)));
    c.detail = login::charge_detail(o, who.certificate);
    svc_.store.logins().charge_async(
        std::move(c), guarded(reply, route, [o, route, reply](storage::Result<std::uint64_t> r) {
          if (!r.ok()) return reply(store_problem(r.error(), route));
          const nlohmann::ordered_json j{
              {"order_id", o.order_id}, {"status", "recorded"}, {"billing_seq", r.value()}};
          reply(json_response(201, j.dump(), route));
        }));
  });
}

}  // namespace oag::gateway::roaming
