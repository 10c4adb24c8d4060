#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/web): install it with apt when absent.
# Playwright drives this browser; never `playwright install` (no downloads from its CDN).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium and CJK fonts with apt ..." >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
