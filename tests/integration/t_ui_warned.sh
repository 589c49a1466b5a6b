#!/usr/bin/env bash
# What a sync says beside its result reaches the browser: after roved was
# restored from a copy, `rove sync` recovers and says so on stderr (exit
# 0); the Sync button's result page, and the form's without script, show
# it (attack forty-five: only the green figures were shown, the words
# left in the status's "error" and never read).
source "$(dirname "$0")/lib.sh"

server_setup
territory east
users carol:rep:east
r carol customer add --name "Before the copy" >/dev/null
r carol sync >/dev/null

# restored NAME: a customer synced after the copy, then the copy put back.
restored() {
	server_stop
	rm -rf "$T/copy"
	cp -a "$T/srv" "$T/copy"
	server_start
	r carol customer add --name "$1" >/dev/null
	r carol sync >/dev/null
	server_stop
	rm -rf "$T/srv"
	cp -a "$T/copy" "$T/srv"
	server_start
}
words="history is not the one this replica synced with"

start_ui ui carol
url=$(cat "$T/ui.out")
base=$(ui_login "$T/jar" "$url")
get() { curl -s -b "$T/jar" "$base$1"; }
csrf=$(get "/sync" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ ${#csrf} -eq 64 ] || fail "no CSRF token on the Sync page"

# 1. The button (script): started, polled, then its result page.
restored "After the first copy"
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 "the sync starts"
wait_for 30 "the sync's end" bash -c "curl -s -b '$T/jar' '$base/sync/status' | jq -e .done >/dev/null"
st=$(get /sync/status)
loc=$(jq -r .location <<<"$st")
[[ $loc == /sync\?pushed=* ]] || fail "no result page after the sync: $st"
eq "$(jq -r .error <<<"$st")" "" "the status's error of a sync that succeeded"
get "$loc" >"$T/page"
grep_q -F "$words" "$T/page" || fail "the result page did not say what the sync said: $(grep -o 'id="sync-result".*' "$T/page" | head -c 300)"
grep_q 'id="sync-result"' "$T/page" || fail "the result page lost its figures"
# Said once: the next sync, with nothing to say, shows no words.
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 "a second sync starts"
wait_for 30 "the second sync's end" bash -c "curl -s -b '$T/jar' '$base/sync/status' | jq -e .done >/dev/null"
loc=$(get /sync/status | jq -r .location)
[[ $loc != *warned* ]] || fail "a quiet sync's page is told of words: $loc"
get "$loc" | grep_q -F "$words" && fail "a quiet sync's page showed the earlier words"

# 2. The form without script (POST /sync, a 303 to the result page).
restored "After the second copy"
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" --data "csrf=$csrf" "$base/sync")
[[ $loc == *"/sync?pushed="* ]] || fail "the form's sync led to '$loc'"
curl -s -b "$T/jar" "$loc" >"$T/page"
grep_q -F "$words" "$T/page" || fail "the form's result page did not say what the sync said"

# Both customers made after the copies are on the server (the recovery).
r carol sync >/dev/null
rove -R "$T/admin" sync >/dev/null
eq "$(rove -R "$T/admin" customer list --json | jq -r '.[].name' | sort | tr '\n' ,)" \
	"After the first copy,After the second copy,Before the copy," "the customers on the server"
echo ok
