#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
# Also builds the release binary (what users run, `-Ounchecked`): end-to-end tests run it.
# ENSEMBLEGEN_CI=1 (set by .ci/run): a missing validator, tool or data set fails the tests
# that need it instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
swift build -c release --product ensemblegen
swift build
swift test
