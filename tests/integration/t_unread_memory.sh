#!/usr/bin/env bash
# Clients that ask for big pulls and never read them: nng writes a reply
# whole from memory, so each such connection keeps its reply in roved
# until it is cut. One token's connections, churned past the cap per user
# (attack seventy-five), took roved from 0.7 to 2.2 GB, and glibc kept
# the memory after they were gone. Now the replies queued in all are
# capped (ROVE_MAX_QUEUED_REPLY_BYTES: past it pull replies are lean) and
# the memory is given back once they are gone; another rep's bootstrap
# goes on meanwhile, in full replies: one user's connections may queue
# only an eighth of the cap (ROVE_USER_QUEUED_SHARE), past which that
# user's replies are lean (attack seventy-seven: one token kept the
# server past the cap, everyone's bootstraps lean, 25-37 times slower
# over a 50-200 ms link).
. "$(dirname "$0")/lib.sh"

rss() { awk '/VmRSS/ { print $2 }' "/proc/$ROVED_PID/status"; }

port=$(free_port)
URL="tcp://127.0.0.1:$port"
server_init
server_start
admin_replica
territories east
users wang:rep:east li:manager:east
# 20,000 customers of about 350 bytes: a bootstrap's first reply is a
# full 4 MiB chunk.
many_customers wang 20000 300
start=$(rss)
hex=$("$ROVE_PROBE" "$URL" wang "$(token_of wang)" pull-request)

# roved's resident memory, every 0.2 s, until $T/stop appears.
(
	while [ ! -e "$T/stop" ]; do
		rss >>"$T/rss"
		sleep 0.2
	done
) &
sampler=$!
BG_PIDS+=($sampler)

# Three waves of 300 connections with wang's token, each sending four
# bootstrap pulls and reading nothing, held 4 s; li, their manager, bootstraps during
# the second.
for wave in 1 2 3; do
	pids=()
	for i in $(seq 1 15); do
		ROVE_PROBE_TIMEOUT_MS=4000 "$ROVE_RAW" "$URL" send "$hex" 4 20 >"$T/raw.$wave.$i" 2>&1 &
		pids+=($!)
		BG_PIDS+=($!)
	done
	if [ $wave = 2 ]; then
		sleep 1 # the hoard in place
		ROVE_LOG=debug r li --timeout 20000 sync >"$T/li.out" 2>"$T/li.err" ||
			fail "li's bootstrap during the attack: $(cat "$T/li.err")"
	fi
	wait "${pids[@]}"
done
eq "$(r li customer list --json | jq length)" 20000 "li's replica holds every customer"
# ... in full replies: the hoard used up wang's share of the replies
# queued, not everyone's (before, past the cap in all, some of li's
# replies were cut to 64 KiB).
replies=$(grep -c "pull: a reply of" "$T/li.err")
echo "li's bootstrap: $replies replies; the largest $(grep -o "a reply of [0-9]*" "$T/li.err" | awk '{ print $4 }' | sort -n | tail -1) bytes" >&2
lean=$(grep -c "pull: a reply of [0-9]\{1,5\} bytes, .*more to come" "$T/li.err" || true)
[ "$lean" -eq 0 ] || fail "$lean of li's $replies replies were lean (under 100,000 bytes) for wang's hoard"
sleep 6
after=$(rss)
touch "$T/stop"
wait "$sampler"
peak=$(sort -n "$T/rss" | tail -1)
echo "memory of roved (resident): $((start / 1024)) MB before, peak $((peak / 1024)) MB, $((after / 1024)) MB after" >&2
if [ "${ROVE_SANITIZED:-0}" != 1 ]; then
	# (the sanitizers' shadow and quarantine make these figures theirs)
	[ $((peak - start)) -lt $((520 * 1024)) ] || fail "roved grew by $(((peak - start) / 1024)) MB during the attack"
	[ $((after - start)) -lt $((256 * 1024)) ] || fail "roved kept $(((after - start) / 1024)) MB after the attack"
fi
# roved still serves.
r wang sync >/dev/null
grep -q "cut [0-9]* connection(s) of users holding too many" "$T/roved.log" || fail "the cap per user never cut"
echo ok
