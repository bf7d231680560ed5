#!/usr/bin/env bash
# Builds the Debian packages oagd, oag-tools and liboag-client-dev from this tree (debian/, with
# debhelper) into DIR (default build-deb/), and checks them with lintian: an error fails.
#   deploy/package.sh [DIR]
# Installs what it needs first (only what is missing): debhelper, lintian, and the build
# dependencies, which deploy/setup.sh installs too.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-deb}")

# man-db: tests/install/package_test.sh finds the installed pages with man and systemd-analyze.
need=(debhelper lintian dpkg-dev fakeroot man-db)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ((${#missing[@]})); then
  echo "package: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A copy of the tree as git sees it (tracked and new files, nothing ignored): no build
# directory of ours goes into the packages, and the package build leaves nothing here.
# A fixed path (Debian's flags name it) so that ccache finds a previous build's objects.
src=/tmp/oag-package.build
rm -rf "$src"
mkdir -p "$src"
trap 'rm -rf "$src"' EXIT
mkdir "$src/oag"
git ls-files -z -co --exclude-standard | tar --null -T - -c | tar -x -C "$src/oag"
# ccache's own directory, not the one debhelper's HOME would give it, so a rebuild is quick.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
(cd "$src/oag" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$src/build.log" 2>&1) || {
  tail -50 "$src/build.log" >&2
  exit 1
}
rm -rf "$out"
mkdir -p "$out"
mv "$src"/*.deb "$src"/*.changes "$src"/*.buildinfo "$out"/
# Errors fail; the warnings kept are listed in the README with their reasons.
lintian --fail-on error --tag-display-limit 0 "$out"/*.changes | tee "$out/lintian.txt"
echo "package: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
