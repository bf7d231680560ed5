#pragma once
// oagctl's command groups; each adds its subcommands to the app.

#include <CLI/CLI.hpp>

#include "tools/oagctl/context.hpp"

namespace oag::tools {

/// vector compute | resync
void add_vector_commands(CLI::App& app);
/// init
void add_init_command(CLI::App& app, Context& ctx);
/// subscriber add | import | list | show | set | disable | enable | delete
void add_subscriber_commands(CLI::App& app, Context& ctx);
/// subscriber set-password | clear-password | profile (under the `subscriber` command)
void add_password_commands(CLI::App& subscriber, Context& ctx);
/// agreement add | list | show | suspend | resume | revoke
void add_agreement_commands(CLI::App& app, Context& ctx);
/// endpoint issue-cert | revoke | list
void add_endpoint_commands(CLI::App& app, Context& ctx);
/// billing export | verify | reconcile
void add_billing_commands(CLI::App& app, Context& ctx);
/// pki add-issuing-ca | add-login-key
void add_pki_commands(CLI::App& app, Context& ctx);
/// db version | upgrade
void add_db_commands(CLI::App& app, Context& ctx);

}  // namespace oag::tools
