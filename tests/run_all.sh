#!/usr/bin/env bash
# Every test: installs and builds (deploy/setup.sh), runs the suite, then builds and runs it
# again under AddressSanitizer + UndefinedBehaviorSanitizer, then runs each benchmark briefly
# so that a broken benchmark fails here (figures come from a full run, see README).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
ctest --test-dir build --output-on-failure -j2

# The Debian packages (debhelper; lintian errors fail), installed with apt, an operator made
# with `oagctl init --user _oag`, the installed oagd run as _oag and asked for a vector with
# curl, then purged: the machine is left without them.
deploy/package.sh build-deb
tests/install/package_test.sh build-deb

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOAG_SANITIZE=ON -DOAG_BUILD_BENCH=OFF \
  -DOAG_WERROR=ON >/dev/null
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

# ThreadSanitizer over the storage suite (the group-commit writer, the reader pool, several
# instances on one database, both backends) and over the gateway, federation and fault tests,
# whose oagd and oagctl are the TSan builds too. Every process writes its reports under
# $tsan_logs; any report fails the run, also one from a daemon whose test passed. No suppressions.
# BOOST_ASIO_DISABLE_FENCED_BLOCK: Asio's handler fences are redundant with its scheduler's
# mutex, which TSan understands, while g++ refuses atomic_thread_fence under -fsanitize=thread.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS=-fsanitize=thread -DBOOST_ASIO_DISABLE_FENCED_BLOCK" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DOAG_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan --target storage_test storage_crash_child oagd oagd_faults oagctl oag-phone \
  oagd_integration_test fault_test
tsan_logs=$(mktemp -d)
TSAN_OPTIONS="halt_on_error=1 log_path=$tsan_logs/tsan" \
  ctest --test-dir build-tsan --output-on-failure -j2 -R '^(storage|postgresql|integration/oagd|fault):'
if compgen -G "$tsan_logs/tsan*" >/dev/null; then
  cat "$tsan_logs"/tsan* | head -100 >&2
  echo "ThreadSanitizer reported the above" >&2
  exit 1
fi
rm -rf "$tsan_logs"

# Every parser under libFuzzer (clang, ASan+UBSan), 20 s each from the seed corpus: the SIP codec
# and carrier decoders, the Digest grammar, CSR/PEM, the roaming login's messages, PASSporT /
# Identity / S/MIME / certificate answers, proto/wire's requests, the configuration, the billing
# import and the CSV subscriber import. A crash or a broken round trip fails here and leaves its
# input in build-fuzz/.
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DOAG_FUZZ=ON -DOAG_BUILD_TESTS=OFF \
  -DOAG_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz
for t in sip_message sip_carrier digest csr login cert_call wire config billing subscriber_csv; do
  corpus=$(mktemp -d)
  (cd build-fuzz && "tests/fuzz/${t}_fuzz" -max_total_time=20 "$corpus" "../tests/fuzz/corpus/$t" \
    2>"${t}_fuzz.log") || { tail -30 "build-fuzz/${t}_fuzz.log"; exit 1; }
  rm -rf "$corpus"
done

build/tests/bench/bench_aka --benchmark_min_time=0.01 >/dev/null 2>&1
# The storage, gateway (beside nginx), federation, SIP and login benchmarks, briefly, and the
# table of ratios they give (tests/bench/summary.sh; a failing benchmark fails here).
tests/bench/summary.sh 1 20
tests/bench/bench_storage_pg.sh 0.2 >/dev/null     # the store on PostgreSQL beside SQLite
tests/bench/bench_instances.sh 1 8 >/dev/null      # two oagd on one PostgreSQL against one
tests/bench/bench_enroll.sh 1 4 >/dev/null       # SIM enrollments against one oagd
tests/bench/bench_cert_call.sh 10 >/dev/null     # certificate-signed calls beside plain and aka, TLS
build/tests/bench/bench_cert_ops --benchmark_min_time=0.01 >/dev/null 2>&1
tests/bench/bench_idle.sh 500 1 >/dev/null        # idle TLS connections held beside a keep-alive client
# The systemd units: systemd-analyze verify, and security --offline at an exposure ≤ 2.5.
tests/systemd/units_check.sh build
# The TLS of the endpoint, federation and visitor listeners, audited by testssl.sh (installed
# here if missing): any finding rated MEDIUM or worse fails the run.
tests/tls/testssl_check.sh
# Nothing the tests, the demo scripts or the benchmarks started may outlive them.
# (Only processes of this tree: a system Kamailio that Debian's package started is not ours.)
ours='deploy/kamailio/kamailio\.cfg|gateway/oagd|integration/oagd_faults|oag-phone/oag-phone|-D [^ ]*/pg/data'
if pgrep -f "$ours" >/dev/null; then
  echo "processes left behind:" >&2
  pgrep -a -f "$ours" | head >&2
  exit 1
fi
echo "all tests passed"
