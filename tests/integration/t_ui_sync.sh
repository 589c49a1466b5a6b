#!/usr/bin/env bash
# rove ui keeps answering while a sync runs on its replica: one started by
# its Sync button (POST /sync/start) and one run by `rove sync` on the
# command line. Each page must answer from the replica as it is, within a
# second, while the pull (made slow: a chunk per item through a proxy that
# delays every packet) takes many; /sync/status keeps telling the
# progress; the two kinds of sync exclude each other cleanly.
source "$(dirname "$0")/lib.sh"

# The page's deadline (ms): generous for ASan on a busy machine, far
# below what the slow pull takes.
PAGE_MS=${PAGE_MS:-1000}
# Items the slow pull brings, each a chunk of two delayed packets.
N=${N:-40}

tcp_server
territory east
users carol:rep:east mike:manager:east
proxy_start proxy.log --delay-ms 60
# mike's replica reaches the server only through the slow proxy.
rm -rf "$T/mike"
rove -R "$T/mike" init --server "tcp://127.0.0.1:$PPORT" --user mike --token "$(token_of mike)" 2>/dev/null

# A batch of N customers on the server for mike to pull.
add_batch() {
	local i
	for i in $(seq 1 "$N"); do r carol customer add --name "$1 $i" >/dev/null; done
	r carol sync >/dev/null
}
add_batch "First"

ROVE_PULL_BATCH=1 start_ui ui mike
UI_PID=$UI_STARTED
url=$(cat "$T/ui.out")
base=$(ui_login "$T/jar" "$url") # the session's base URL, /s/SECRET
get() { curl -s -b "$T/jar" "$base$1"; }
csrf=$(get "/sync" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ ${#csrf} -eq 64 ] || fail "no CSRF token on the Sync page"

# timed_page PATH: fetches a page; fails unless it answers 200 within
# PAGE_MS (curl gives up at 20 s: a page that waits for the whole sync).
timed_page() {
	local t0 ms st
	t0=$(date +%s%N)
	st=$(curl -s --max-time 20 -o "$T/page" -w '%{http_code}' -b "$T/jar" "$base$1") || st="none (curl $?)"
	ms=$(elapsed_ms "$t0")
	eq "$st" 200 "$1 while a sync runs"
	[ "$ms" -le "$PAGE_MS" ] || fail "$1 took $ms ms while a sync ran (limit $PAGE_MS ms)"
	echo "$1 $ms ms"
}
pages=(/ /customers /deals /reports /sync /customers?f=pool)
# Between two pages: asked back to back, about 170 pages a run cost half
# a minute of CPU under the sanitizers; a user clicks slower anyway.
PACE=0.15

# 1. The Sync button: pages answer while its pull runs; the status moves.
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 "the sync starts"
sleep 0.3
seen=0 last_chunks=0 moved=0
for _ in $(seq 1 200); do
	st=$(curl -s --max-time 5 -b "$T/jar" "$base/sync/status") || fail "no sync status within 5 s"
	[ "$(jq .running <<<"$st")" = true ] || break
	c=$(jq .chunks <<<"$st")
	[ "$c" -gt "$last_chunks" ] && [ "$last_chunks" -gt 0 ] && moved=$((moved + 1))
	last_chunks=$c
	timed_page "${pages[seen % ${#pages[@]}]}"
	seen=$((seen + 1))
	sleep "$PACE"
	# while it runs, a command-line sync (that waits 0.2 s for it) says
	# one is running
	if [ "$seen" -eq 3 ]; then
		set +e
		"$ROVE_BIN" -R "$T/mike" --timeout 200 sync >/dev/null 2>"$T/err2"
		s2=$?
		set -e
		eq "$s2" 1 "a command-line sync during the UI's ($(cat "$T/err2"))"
		grep -q "a sync is already running" "$T/err2" || fail "the second sync does not say why: $(cat "$T/err2")"
	fi
done
[ "$seen" -ge 5 ] || fail "the UI's sync ended before 5 pages were asked for ($seen): too fast to tell"
[ "$moved" -ge 2 ] || fail "the status did not move while the sync ran: $st"
for _ in $(seq 1 400); do
	st=$(curl -s -b "$T/jar" "$base/sync/status")
	[ "$(jq .done <<<"$st")" = true ] && break
	sleep 0.05
done
eq "$(jq .done <<<"$st")" true "the UI's sync ended: $st"
[[ $(jq -r .location <<<"$st") == /sync\?pushed=*\&pulled=* ]] || fail "no result page: $st"
[ "$(jq .pulled <<<"$st")" -ge "$N" ] || fail "the status did not count what was pulled: $st"
[ "$(jq .cursor <<<"$st")" -eq "$(jq .head <<<"$st")" ] || fail "the pull did not reach the server's head: $st"
grep -q "First $N" <<<"$(get "/customers?q=First%20$N")" || fail "the pulled customers are not listed"

# 2. `rove sync` on the command line: pages answer while its pull runs.
add_batch "Second"
ROVE_PULL_BATCH=1 "$ROVE_BIN" -R "$T/mike" sync --json >"$T/cli.out" 2>"$T/cli.err" &
cli_pid=$!
BG_PIDS+=($cli_pid)
sleep 0.5
seen=0
while kill -0 "$cli_pid" 2>/dev/null; do
	timed_page "${pages[seen % ${#pages[@]}]}"
	seen=$((seen + 1))
	sleep "$PACE"
	# while it runs, the Sync button's run says one is running
	if [ "$seen" -eq 3 ]; then
		eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 \
			"a UI sync during the command line's starts"
		for _ in $(seq 1 100); do
			st=$(curl -s --max-time 5 -b "$T/jar" "$base/sync/status") || fail "no sync status within 5 s"
			[ "$(jq .done <<<"$st")" = true ] && break
			sleep 0.05
		done
		eq "$(jq .done <<<"$st")" true "the UI's second sync ended at once: $st"
		grep -q "a sync is already running" <<<"$(jq -r .error <<<"$st")" || fail "the UI's sync does not say one is running: $st"
	fi
	# the plain form (no script) says so too, as a failed sync, not as
	# a form "Not saved"
	if [ "$seen" -eq 4 ]; then
		page=$(curl -s --max-time 10 -b "$T/jar" --data "csrf=$csrf" "$base/sync")
		grep -q "Sync failed:</b> .*a sync is already running" <<<"$page" ||
			fail "the Sync form during the command line's sync: $(grep -o 'id="error".*' <<<"$page" | head -c 300)"
	fi
done
wait "$cli_pid" || fail "the command-line sync failed: $(cat "$T/cli.err")"
[ "$seen" -ge 5 ] || fail "the command-line sync ended before 5 pages were asked for ($seen): too fast to tell"
[ "$(jq .pulled "$T/cli.out")" -ge "$N" ] || fail "the command-line sync pulled too little: $(cat "$T/cli.out")"
grep -q "Second $N" <<<"$(get "/customers?q=Second%20$N")" || fail "the command line's pull is not listed"

# 3. Offline is still a state: the proxy's server gone, the button says so.
server_stop
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 "an offline sync starts"
for _ in $(seq 1 400); do
	st=$(curl -s -b "$T/jar" "$base/sync/status")
	[ "$(jq .done <<<"$st")" = true ] && break
	sleep 0.05
done
eq "$(jq -r .location <<<"$st")" "/sync?offline=1" "an offline sync's result: $st"

# 4. Stopped while its sync runs: rove ui ends at once, and so does its
# rove sync (the next sync resumes the pull).
server_start
add_batch "Third"
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf" "$base/sync/start")" 202 "the last sync starts"
wait_for 10 "the last sync to pull" sh -c "curl -s -b '$T/jar' '$base/sync/status' | jq -e '.chunks > 2' >/dev/null"
t0=$(date +%s%N)
kill -TERM "$UI_PID"
rc=0; wait "$UI_PID" || rc=$?
eq "$rc" 0 "rove ui stopped by SIGTERM during a sync: exit status ($(cat "$T/ui.err"))"
ms=$(elapsed_ms "$t0")
[ "$ms" -le 3000 ] || fail "rove ui took $ms ms to stop during a sync"
# its rove sync is gone: the lock is free, and a sync gets the rest
# (within 2 s: 200 ms timed out through the proxy on a loaded CI machine
# under the sanitizers; a sync left running held the lock 9.7 s)
out=$("$ROVE_BIN" -R "$T/mike" --timeout 2000 sync --json) || fail "the sync after the stop did not run"
[ "$(jq .pulled <<<"$out")" -ge 1 ] || fail "the stopped sync left nothing to pull: $out"
grep -q "Third $N" <<<"$(r mike customer list --json | jq -r '.[].name')" || fail "the last batch never arrived"
echo "ok"
