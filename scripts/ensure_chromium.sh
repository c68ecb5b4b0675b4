#!/usr/bin/env bash
# The browser tests drive Debian's chromium with Playwright (never a downloaded browser build), and
# screenshots need a CJK font (the Chinese UI) and an emoji font (the status dots). Install them when
# missing and we are allowed to (root with apt-get); otherwise say so and carry on: browser tests
# then skip with that reason.
set -eu
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" \
   && fc-list 2>/dev/null | grep -qi "emoji"; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fonts-noto-color-emoji >/dev/null
else
  echo "chromium is not installed and cannot be installed here (need root + apt-get):"
  echo "browser tests will be skipped. Install it with: sudo apt-get install -y chromium"
fi
