#!/usr/bin/env bash
# Logins and territory codes: one rule for a valid login, whether roved
# init or an admin creates it; no two logins, and no two codes, that
# differ only in case (wang / WANG, east.sh / East.SH would be one to
# anyone reading a list, and a reassignment to "WANG" would go elsewhere).
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users wang:rep:east.sh
sync_all admin

# expect_refused WHAT MESSAGE COMMAND...: exit 1, MESSAGE on stderr.
expect_refused() {
	local what=$1 msg=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	eq "$rc" "1" "$what: exit status"
	grep -qF -- "$msg" "$T/err" || fail "$what: no '$msg' in: $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "$what: printed $(cat "$T/out")"
}

expect_refused "a login differing only in case" "'WANG' would differ from user 'wang' only in case" \
	r admin admin user add WANG --role rep --territory east.sh
expect_refused "a code differing only in case" "'East.SH' would differ from territory 'east.sh' only in case" \
	r admin admin territory add East.SH --name "Shanghai?" --parent east
expect_refused "the server's own name" "server's own name" r admin admin user add Roved --role rep
expect_refused "a login with a space" "invalid user name 'bad name'" \
	r admin admin user add "bad name" --role rep
# roved init takes the same logins, and no other.
expect_refused "roved init with a space in the admin's name" "invalid admin name 'bad name'" \
	"$ROVED_BIN" init "$T/srv2" --admin "bad name"
[ ! -e "$T/srv2/data.mdb" ] || fail "roved init left a database behind"
expect_refused "roved init as the server's own name" "invalid admin name 'roved'" \
	"$ROVED_BIN" init "$T/srv3" --admin roved
tok=$("$ROVED_BIN" init "$T/srv4" --admin "li.wei@hq" 2>/dev/null)
eq "${#tok}" "64" "roved init with a login user.add takes"
# Logins are exact: 'WANG' names no user, and an admin is told the one
# it differs from only in case (a manager is not: he may not see wang).
expect_refused "an admin's request naming WANG" "no user 'WANG' (logins are exact: 'wang')" \
	r admin admin user show WANG
c=$(r admin customer add --name "Pool Co" --phone 13800000077 --territory east.sh)
r admin sync >/dev/null
expect_refused "a reassignment to WANG" "no user 'WANG' (logins are exact: 'wang')" \
	r admin admin reassign --customer "$c" --to WANG
users mike:manager:east
r mike sync >/dev/null
expect_refused "a manager's reassignment to WANG" "no user 'WANG' in your territories" \
	r mike admin reassign --customer "$c" --to WANG
grep -q "exact" "$T/err" && fail "a manager was told of wang: $(cat "$T/err")"
# Different names are still welcome.
r admin admin user add wang2 --role rep --territory east.sh >/dev/null
r admin admin territory add east.sz --name Suzhou --parent east >/dev/null
echo "ok"
