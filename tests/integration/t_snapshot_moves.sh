#!/usr/bin/env bash
# A snapshot read over many replies walks the user's scopes one after
# another; a customer that moves, while it is read, from a scope not yet
# walked into one walked already is in none of its replies. The op that
# moved it comes after the snapshot's sequence number and must bring it
# whole: the replica never held it (attack 103: once a move between two
# of a reader's scopes travelled as its op alone, that op made a hollow
# customer - no name, no territory, none of its contacts - which no later
# sync mended).
#
# Each case cuts a first sync (`kill -9`) after a few replies of 1 item,
# moves a customer whose key comes last, then syncs to the end.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.hz east/east.sh
users li:rep:east.sh wang:rep:east.hz,east.sh mge:manager:east
sync_all admin

# 40 pool customers in east.sh; the last one made (its key comes last)
# has three contacts.
for i in $(seq 1 40); do
	x=$(r admin customer add --name "Pool $i" --territory east.sh)
done
for i in 1 2 3; do r admin contact add --customer "$x" --name "Buyer $i" >/dev/null; done
r admin sync >/dev/null

# cut_first_sync NAME: NAME's first sync, killed after 10 replies.
cut_first_sync() {
	local p n=0
	ROVE_LOG=debug ROVE_PULL_BATCH=1 rove -R "$T/$1" sync >/dev/null 2>"$T/cut.log" &
	p=$!
	BG_PIDS+=($p)
	until [ "$(grep -c 'pull: a reply' "$T/cut.log")" -ge 10 ]; do
		n=$((n + 1))
		[ "$n" -lt 3000 ] || fail "$1's first sync brought no 10 replies: $(tail -n 3 "$T/cut.log")"
		kill -0 "$p" 2>/dev/null || fail "$1's first sync ended before its tenth reply"
		sleep 0.01
	done
	kill -9 "$p"
	wait "$p" 2>/dev/null || true
}

# holds_whole NAME WHAT: NAME's replica holds the customer as the server
# does, with its three contacts.
holds_whole() {
	local want got
	want=$(r admin customer show "$x" --json | jq -c '{name, territory, owner}')
	got=$(r "$1" customer show "$x" --json | jq -c '{name, territory, owner}')
	eq "$got" "$want" "$1's copy ($2)"
	eq "$(r "$1" contact list --customer "$x" --json | jq -c '[.[].name] | sort')" \
		'["Buyer 1","Buyer 2","Buyer 3"]' "$1's contacts ($2)"
}

# moved_during NAME WHAT CMD...: NAME's first sync is cut, the admin runs
# CMD (a move of the customer) and syncs, NAME syncs to the end (in
# replies of one item, then once more): NAME holds it whole.
moved_during() {
	local name=$1 what=$2
	shift 2
	cut_first_sync "$name"
	r admin "$@" >/dev/null
	r admin sync >/dev/null
	ROVE_PULL_BATCH=1 r "$name" sync >/dev/null
	r "$name" sync >/dev/null
	holds_whole "$name" "$what"
}

# 1. A rep's first sync: the pool customer is reassigned to him (from
# his territory's pool, walked after his own customers).
moved_during li "reassigned to him during his first sync" admin reassign --customer "$x" --to li

# 2. A rep of two territories: the customer, back in east.sh's pool, is
# moved to east.hz's (walked before east.sh's) during his first sync.
r li customer release "$x" >/dev/null
r li sync >/dev/null
eq "$(r admin sync >/dev/null && r admin customer show "$x" --json | jq -r '.owner // "pool"')" "pool" "back in the pool"
moved_during wang "moved between his territories during his first sync" customer set "$x" territory=east.hz

# 3. A manager of both: moved back to east.sh before his first sync,
# and to east.hz during it.
r admin customer set "$x" territory=east.sh >/dev/null
r admin sync >/dev/null
moved_during mge "moved between his territories during his first sync" customer set "$x" territory=east.hz

# Every replica in step with the server's state of its scope.
sync_all admin li wang mge
all=$(r admin customer list --json)
eq "$(r li customer list --json | jq -c .)" "$(scope_filter_rep li east.sh <<<"$all")" "li's scope"
eq "$(r wang customer list --json | jq -c .)" "$(scope_filter_rep wang east.hz east.sh <<<"$all")" "wang's scope"
eq "$(r mge customer list --json | jq length)" "40" "the manager's customers"
echo "ok"
