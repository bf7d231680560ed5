#!/usr/bin/env bash
# The main job. Until the two-operator demo exists, it sets up, builds and prints the vector of
# 3GPP TS 35.208 test set 1 computed by `oagctl vector compute`.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
echo "TS 35.208 test set 1 (expected: xres a54211d5e3ba50bf, mac_a 4a9ffac354dfafb3):"
build/tools/oagctl/oagctl vector compute --algo milenage \
  --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 \
  --rand 23553cbe9637a89d218ae64dae47bf35 --sqn ff9bb4d0b607 --amf b9b9
