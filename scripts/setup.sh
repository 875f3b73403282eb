#!/usr/bin/env bash
# Set up a Debian 12 machine to build, test and run ts-runc. Run as root; safe to run again.
#
#   bash scripts/setup.sh                    install packages, npm ci (builds), npm link, sample
#   TSRUNC_BIN=$(which runc) bash scripts/setup.sh   ...with the sample run by another runtime
#   SETUP_SKIP_SAMPLE=1 bash scripts/setup.sh        ...without the sample container
#
# Steps:
#   1. apt packages from scripts/apt-packages.txt (apt-get update only if some are missing)
#   2. npm ci: dependencies, the N-API addon (node-gyp) and the TypeScript build (prepare)
#   3. npm link: `ts-runc` on PATH
#   4. manual pages (`man ts-runc-create`) and bash completion, under /usr/local
#   5. a sample busybox bundle in /tmp/ts-runc-sample, run once with the runtime
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (it installs packages and runs containers)" >&2
  exit 1
fi

step "apt packages"
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/apt-packages.txt | grep -v '^$')
# shellcheck source=scripts/apt-lib.sh
. scripts/apt-lib.sh
mapfile -t missing < <(missing_packages "${packages[@]}")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  echo "all ${#packages[@]} packages present"
fi

step "npm ci (dependencies, addon, build)"
if [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr # node-gyp builds against the installed headers, never downloads them
fi
npm ci --no-audit --no-fund </dev/null

step "npm link (ts-runc on PATH)"
# The package was just built by npm ci; linking needs no second run of its scripts.
npm link --ignore-scripts --no-audit --no-fund </dev/null
echo "ts-runc -> $(command -v ts-runc || echo 'not on PATH')"

step "manual pages and bash completion"
bash scripts/install-docs.sh /usr/local

step "sample container"
sample=/tmp/ts-runc-sample
if [ -n "${SETUP_SKIP_SAMPLE:-}" ]; then
  echo "skipped (SETUP_SKIP_SAMPLE is set)"
  exit 0
fi
if [ -n "${TSRUNC_BIN:-}" ]; then
  runtime=$TSRUNC_BIN
elif [ -x dist/ts-runc ] && command -v ts-runc >/dev/null; then
  runtime=ts-runc
else
  echo "skipped: the runtime is not built (no executable dist/ts-runc); set TSRUNC_BIN to use another runtime"
  exit 0
fi
node scripts/make-sample-bundle.mjs "$sample" echo "hello from ts-runc"
id="sample-$$"
echo "\$ $runtime run --bundle $sample $id"
set +e
output=$("$runtime" run --bundle "$sample" "$id" </dev/null 2>&1)
status=$?
set -e
printf '%s\n' "$output"
"$runtime" delete --force "$id" >/dev/null 2>&1 || true
if [ "$status" -eq 0 ] && grep -qx 'hello from ts-runc' <<<"$output"; then
  echo "sample container ran (bundle left in $sample)"
else
  # Not fatal: the test suite is the judge of the runtime; set-up only shows it working.
  echo "WARNING: the sample container did not print 'hello from ts-runc' (exit status $status)"
fi
