#!/bin/sh
# The landing page in headless Debian Chromium (driven by playwright-core):
# it renders (screenshot saved in tests/out/landing.png), GET wrote
# nothing, and pressing "Unsubscribe from all lists" records the
# unsubscribe with source landing-page.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
[ -x /usr/bin/chromium ] || fail "chromium is not installed (make deps installs it)"
[ -d "$TOP/tests/http/browser/node_modules/playwright-core" ] ||
	fail "playwright-core is not installed (make deps installs it)"
http_env </dev/null
httpd_start
t=$(url_token browser.reader@example.com --list news)
shot="$TOP/tests/out/landing.png"
mkdir -p "$TOP/tests/out"
out=$(cd "$TOP/tests/http/browser" && HOME="$T" node press.js \
    "http://127.0.0.1:$PORT/u/$t" "$shot" "Unsubscribe from all lists" 2>&1) ||
	fail "browser: $out"
assert_eq "$out" "You are unsubscribed" "page after the button"
[ -s "$shot" ] || fail "no screenshot"
assert_match '"scopes":\["\*"\]' "$(ctl status browser.reader@example.com --json)" "recorded for all lists"
assert_match '"source":"landing-page"' "$(ctl history browser.reader@example.com --json)" "source"
echo "landing page in Chromium: ok (screenshot $shot)"
