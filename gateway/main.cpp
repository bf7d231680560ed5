// oagd: the Operator Authentication Gateway daemon.
//   oagd --config FILE [--check-config]
#include "gateway/daemon.hpp"

int main(int argc, char** argv) {
  return oag::gateway::daemon_main(argc, argv);
}
