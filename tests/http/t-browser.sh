#!/bin/sh
# The landing page in headless Debian Chromium (driven by playwright-core),
# en, sv and de: it renders (screenshots tests/out/landing-LANG.png and the
# page after the button, done-LANG.png), GET wrote nothing, the lists'
# checkboxes are reached with Tab, show their focus and toggle with Space,
# and the button pressed with Enter records what the page says.
. "$(dirname "$0")/../common.sh"
. "$TOP/tests/http/lib.sh"
[ -x /usr/bin/chromium ] || fail "chromium is not installed (make deps installs it)"
[ -d "$TOP/tests/http/browser/node_modules/playwright-core" ] ||
	fail "playwright-core is not installed (make deps installs it)"
http_env </dev/null
httpd_start
ctl lists set news --title "Company news" >/dev/null
ctl lists set weekly --title "The Weekly" --description "Every Monday, five minutes to read" >/dev/null
ctl lists set offers --title "Offers" --description "A few times a year" >/dev/null
mkdir -p "$TOP/tests/out"

# press LANG ADDRESS BUTTON [LIST...]: the page for ADDRESS's news token.
press() {
	lang=$1 addr=$2 button=$3
	shift 3
	t=$(url_token "$addr" --list news)
	shot="$TOP/tests/out/landing-$lang.png"
	out=$(cd "$TOP/tests/http/browser" && HOME="$T" node press.js \
	    "http://127.0.0.1:$PORT/u/$t" "$shot" "$button" "$lang" "$@" 2>&1) ||
		fail "browser ($lang): $out"
	[ -s "$shot" ] || fail "no screenshot $shot"
	echo "$lang: $shot"
}

# en: untick The Weekly, save.
press en b.en@example.com "Save my choices" weekly
assert_match "Your choices are saved" "$out" "en: done page"
assert_match "You will no longer get The Weekly\." "$out" "en: what changed"
assert_match '"scopes":\["weekly"\]' "$(ctl status b.en@example.com --json)" "en: weekly left"
assert_match '"source":"preference-centre"' "$(ctl history b.en@example.com --json)" "en: source"

# en: Enter on a checkbox saves the choices (never "all lists").
press en b.enter@example.com Enter offers
assert_match "You will no longer get Offers\." "$out" "Enter: what changed"
assert_match '"scopes":\["offers"\]' "$(ctl status b.enter@example.com --json)" "Enter: offers only"

# sv: already left everything; tick Offers back: all except offers.
ctl add b.sv@example.com >/dev/null
press sv b.sv@example.com "Spara mina val" offers
assert_match "Dina val är sparade" "$out" "sv: done page"
assert_match "Du får Offers igen\." "$out" "sv: what changed"
assert_match '"scopes":\["\*"\],"except":\["offers"\]' "$(ctl status b.sv@example.com --json)" "sv: all except offers"

# de: unsubscribe from all lists.
press de b.de@example.com "Von allen Listen abmelden"
assert_match "Sie sind abgemeldet" "$out" "de: done page"
assert_match '"scopes":\["\*"\]' "$(ctl status b.de@example.com --json)" "de: all lists"
assert_match '"source":"landing-page"' "$(ctl history b.de@example.com --json)" "de: source"
echo "landing page in Chromium: ok (screenshots in $TOP/tests/out)"
