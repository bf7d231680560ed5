#!/usr/bin/env bash
# liboag-client as an endpoint project sees it: install the build into a prefix, build
# client/example with find_package(oag-client), run it (usage without arguments: exit 2).
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d /tmp/oag-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/oag-client/oag-client-config.cmake"
test -f "$work/prefix/include/oag/client/mutual_auth.hpp"
cmake -S "$src/client/example" -B "$work/b" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/b" >/dev/null
rc=0
"$work/b/oag-client-example" 2>/dev/null || rc=$?
test "$rc" = 2
echo "installed, found with find_package(oag-client), example built and run"
