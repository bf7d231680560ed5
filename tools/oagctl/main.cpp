// oagctl: the operator's admin CLI. Exit status 0 ok, 1 failure, 2 usage.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "tools/oagctl/args.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/context.hpp"

int main(int argc, char** argv) {
  CLI::App app{"oagctl: administer an OAG authentication gateway"};
  app.set_version_flag("--version", "oagctl " OAG_VERSION);
  app.require_subcommand(1);
  oag::tools::Context ctx;
  app.add_option("--config", ctx.config_file,
                 "oagd.json written by `oagctl init` (store and PKI paths)");
  app.add_option("--db", ctx.db_path, "Database file (instead of --config)");
  app.add_option("--master-key", ctx.master_key, "Master key file (instead of --config)");
  app.add_flag("--json", ctx.json, "Machine-readable JSON output");
  oag::tools::add_init_command(app, ctx);
  oag::tools::add_subscriber_commands(app, ctx);
  oag::tools::add_agreement_commands(app, ctx);
  oag::tools::add_endpoint_commands(app, ctx);
  oag::tools::add_billing_commands(app, ctx);
  oag::tools::add_pki_commands(app, ctx);
  oag::tools::add_db_commands(app, ctx);
  oag::tools::add_vector_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A mistyped command surfaces as "a subcommand is required": name the word instead.
    for (const CLI::App* level = &app;;) {
      const auto extra = level->remaining();
      if (!extra.empty() && !extra.front().starts_with("-")) {
        std::cerr << "oagctl: unknown command: " << extra.front() << "\n";
        return 2;
      }
      const auto subs = level->get_subcommands();
      if (subs.empty()) break;
      level = subs.front();
    }
    app.exit(e);
    return 2;
  } catch (const oag::tools::UsageError& e) {
    std::cerr << "oagctl: " << e.what() << '\n';
    return 2;
  } catch (const oag::tools::CommandFailed& e) {
    std::cerr << "oagctl: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "oagctl: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
