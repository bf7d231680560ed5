#pragma once
// oagctl vector compute | resync: the lab tool (deterministic, from K/OPc/RAND/SQN/AMF).

#include <CLI/CLI.hpp>

namespace oag::tools {

/// Adds `vector compute` and `vector resync` under `app`.
void add_vector_commands(CLI::App& app);

}  // namespace oag::tools
