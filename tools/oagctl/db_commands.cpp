// oagctl db version | upgrade
#include "tools/oagctl/commands.hpp"

namespace oag::tools {

void add_db_commands(CLI::App& app, Context& ctx) {
  auto* db = app.add_subcommand("db", "Database schema");
  db->require_subcommand(1);
  db->add_subcommand("version", "Print the schema version of the database and of this build")
      ->callback([&ctx] {
        const auto cfg = ctx.backend_config();
        int have = 0;
        try {
          have = storage::read_schema_version(cfg);
        } catch (const storage::StoreError& e) {
          throw CommandFailed(e.what());
        }
        const int latest = storage::latest_schema_version(cfg.backend);
        nlohmann::ordered_json j{
            {"database", have}, {"build", latest}, {"up_to_date", have == latest}};
        ctx.print(j, "schema version " + std::to_string(have) +
                         " (this build: " + std::to_string(latest) + ")" +
                         (have < latest ? "; run `oagctl db upgrade`\n" : "\n"));
      });
  db->add_subcommand("upgrade", "Apply pending migrations, each in its own transaction")
      ->callback([&ctx] {
        const auto cfg = ctx.backend_config();
        const int before = storage::read_schema_version(cfg);
        if (before == 0)
          throw CommandFailed("no OAG database at " + cfg.path + " (run oagctl init)");
        const int after = ctx.backend(true).schema_version();
        nlohmann::ordered_json j{{"from", before}, {"to", after}};
        ctx.print(j, before == after ? "schema already at version " + std::to_string(after) + "\n"
                                     : "upgraded schema from version " + std::to_string(before) +
                                           " to " + std::to_string(after) + "\n");
      });
}

}  // namespace oag::tools
