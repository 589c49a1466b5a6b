#!/usr/bin/env bash
# A replica directory copied to a second laptop (cp -r, or a replica's
# backup put on a new machine while the old one still syncs): both copies
# carry the same node number, and each goes on with its own changes. A
# change made on one copy before a change made on the other is the
# earlier one (rule 8: the later write wins), whichever copy syncs last -
# also against another user's change made in between. (A per-node floor
# on the server, 2026-12-03, took the copy's earlier change for that
# replica's next one and stamped it anew past both: attack seventeen.)
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users wang:rep:east mike:manager:east
sync_all admin wang mike

c=$(r wang customer add --name Orig)
d=$(r wang customer add --name Other)
sync_all wang mike
cp -a "$T/wang" "$T/wang2"

# 1. The copy's edit first, the original's after it; the original syncs
# first.
r wang2 customer set "$c" name=Copy-EARLIER
sleep 0.05
r wang customer set "$c" name=Orig-LATER
sync_all wang wang2
for _ in 1 2; do sync_all wang wang2 mike; done
for u in wang wang2 mike admin; do
	r admin sync >/dev/null
	eq "$(r "$u" customer show "$c" --json | jq -r .name)" Orig-LATER "$u: the later of the two copies' edits"
done

# 2. The copy's edit, then a manager's; the original syncs an edit of
# another customer in between; the copy syncs last.
r wang2 customer set "$c" address=Copy-EARLIER
sleep 0.05
r mike customer set "$c" address=Mike-LATER
r mike sync >/dev/null
r wang customer set "$d" address=Orig-ELSEWHERE
r wang sync >/dev/null
r wang2 sync >/dev/null
for _ in 1 2; do sync_all wang wang2 mike admin; done
for u in wang wang2 mike admin; do
	eq "$(r "$u" customer show "$c" --json | jq -r .address)" Mike-LATER "$u: the manager's later edit"
done
eq "$(r wang2 customer show "$d" --json | jq -r .address)" Orig-ELSEWHERE "the original's edit reaches the copy"
echo "ok"
