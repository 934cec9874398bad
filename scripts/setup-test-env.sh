#!/usr/bin/env bash
# Test environment setup, run by `npm test` (root `pretest`). Idempotent: installs Debian's chromium package
# for the ops console's browser tests (driven by playwright-core; no browser download) when it is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-env: /usr/bin/chromium is missing and apt-get is not available; install Chromium yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-test-env: installing chromium needs root (or sudo)" >&2
    exit 1
  fi
fi
echo "setup-test-env: installing chromium (apt-get)"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
/usr/bin/chromium --version
