/*
 * replica.c - the replica's store: its LMDB layout (replica.h), opening
 * and creating it, records, meta values, what the user reads; the time of
 * the last sync. Local writes, the outbox and the view over it are in
 * replica_outbox.c; what the server's answers do to it in replica_sync.c.
 */
#include "replica_int.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "net.h"
#include "report.h"
#include "rove_assert.h"
#include "schema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The layout of a replica; one made with another is refused at open
 * (ROVE_EVERSION). 2: refused ops in proto's rejection encoding, the
 * last sync time in a file. 3: two bases, the journal, the server's run.
 * 4: records written in record format 2 (proto.h); a replica of format 3
 * is brought to 4 by its first write (only the number changes: its
 * records are read as they are until written again), so that an older
 * rove, which reads format 1 only, refuses it then and not before.
 * 5: each outbox entry with its sum (replica.h); a replica of format 3 or
 * 4 is brought to 5 by its first write, which gives its outbox's entries
 * their sums in the same transaction (until then, read without). */
#define REPLICA_FORMAT 5
#define REPLICA_FORMAT_OLDEST 3 /* the oldest this rove opens */
#define REPLICA_FORMAT_SUMS 5
#define REPLICA_FORMAT_DAMAGED 255 /* a number past it is damage */
#define REPLICA_MAXDBS 16
/* The time of the last sync: a file beside the database (see synced). */
#define LAST_SYNC_FILE "last_sync"
#define LAST_SYNC_MAX_CHARS 20 /* the digits of UINT64_MAX */
#define REPLICA_PATH_MAX 4096

/* dir/name into out; ROVE_EINVAL if it does not fit. */
static int replica_path(const char *dir, const char *name, char out[REPLICA_PATH_MAX])
{
	int n = snprintf(out, REPLICA_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= REPLICA_PATH_MAX) {
		rove_error("replica path too long: '%s'", dir);
		return ROVE_EINVAL;
	}
	return ROVE_OK;
}

static int open_dbis(rove_replica *r, MDB_txn *txn, unsigned flags)
{
	const rove_db_table t[] = {
		{"meta", &r->meta},         {"base0", &r->bases[0]},  {"base1", &r->bases[1]},
		{"view", &r->view},         {"outbox", &r->outbox},   {"pending", &r->pending},
		{"rejected", &r->rejected}, {"journal", &r->journal},
	};

	return rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), flags);
}

/* Whether meta "base" is missing where it cannot be: it is absent (0)
 * until the first snapshot is swapped in, which writes it, and the
 * cursor with it (attack sixty-five: deleted, the replica showed the
 * empty base, saying nothing). */
static int base_gone(MDB_txn *txn, MDB_dbi meta, bool *gone)
{
	MDB_val k = {4, "base"}, v;
	uint64_t cursor = 0;
	int mrc = mdb_get(txn, meta, &k, &v), rc = ROVE_OK;

	*gone = false;
	if (mrc == 0)
		return ROVE_OK;
	if (mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "meta");
	/* (a cursor that does not read is said by its readers) */
	if (rove_db_get_u64(txn, meta, "cursor", &cursor) == ROVE_OK)
		*gone = cursor != 0;
	return rc;
}

/* How many times this process said the replica is damaged (atomic: the
 * web UI syncs on a thread of its own; rove_replica_damage_said). */
static atomic_ulong damage_said;

/* ---- meta keys that may be damaged ----
 * A meta value of the wrong size (LMDB keeps no checksum: a disk's or a
 * hand's damage) is named, with the way out (attack sixty-four: syncs
 * blamed the outbox, the server or the token, or the replica would not
 * open). What the key holds decides the way out:
 *   META_REPAIR  the sync's own state, kept again by 'rove sync --repair'
 *                (rove_replica_meta_fix sets it as below first);
 *   META_CONFIG  a setting of 'rove config': read as empty meanwhile
 *                (r->bad_setting), the server not called until set;
 *   META_NEW     what makes the replica itself (format, id, user): a new
 *                replica. */
enum meta_way { META_NEW, META_CONFIG, META_REPAIR };
/* How META_REPAIR keys are set anew. */
enum meta_fix { FIX_DROP, FIX_ZERO, FIX_CLOCK, FIX_NOW, FIX_ROLE };

static const struct meta_key {
	const char *key;
	uint32_t min, max; /* the sizes its value may have */
	enum meta_way way;
	enum meta_fix fix;
	const char *setting; /* META_CONFIG: rove config's name for it */
} meta_keys[] = {
	{"format", 8, 8, META_NEW, FIX_DROP, NULL},
	{"id", 16, 16, META_NEW, FIX_DROP, NULL},
	{"user", 1, ROVE_MAX_NAME, META_NEW, FIX_DROP, NULL},
	{"server", 0, ROVE_MAX_URL, META_CONFIG, FIX_DROP, "server"},
	{"token", ROVE_TOKEN_HEX, ROVE_TOKEN_HEX, META_CONFIG, FIX_DROP, "token"},
	{"tls_ca", 0, ROVE_MAX_URL, META_CONFIG, FIX_DROP, "ca"},
	/* the base shown until the repair's snapshot replaces it */
	{"base", 8, 8, META_REPAIR, FIX_ZERO, NULL},
	{"role", 1, ROVE_MAX_NAME, META_REPAIR, FIX_ROLE, NULL}, /* the next pull says it */
	/* the indexes: built anew */
	{"index", 8, 8, META_REPAIR, FIX_ZERO, NULL},
	{"indexed/0", 8, 8, META_REPAIR, FIX_ZERO, NULL},
	{"indexed/1", 8, 8, META_REPAIR, FIX_ZERO, NULL},
	/* the pull's position and the server's history: the repair's
	 * snapshot, or a recovery that sends again what the server lacks */
	{"cursor", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"epoch", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"snap_seq", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"snap_key", 0, ROVE_MAX_SNAP_KEY, META_REPAIR, FIX_DROP, NULL},
	{"run", 16, 16, META_REPAIR, FIX_DROP, NULL},
	{"ack_run", 16, 16, META_REPAIR, FIX_DROP, NULL},
	{"ack_seq", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"snap_end", 32, 32, META_REPAIR, FIX_DROP, NULL},
	{"ack_floor", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"server_id", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"pulled_hlc", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"resending", 8, 8, META_REPAIR, FIX_DROP, NULL},
	/* clocks: past every stamp this replica made, so that a change
	 * made next orders after its pending ones, and the journal counts
	 * as forgetting them all (a recovery then compares every record) */
	{"hlc", 8, 8, META_REPAIR, FIX_CLOCK, NULL},
	{"journal_floor", 8, 8, META_REPAIR, FIX_CLOCK, NULL},
	{"recover_floor", 8, 8, META_REPAIR, FIX_CLOCK, NULL},
	/* report sums: not kept (made anew; report_agg.c reads these as
	 * not kept meanwhile) */
	{"report_sums", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"report_sums/0", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"report_sums/1", 8, 8, META_REPAIR, FIX_DROP, NULL},
	/* the laptop's clock's lead or lag: learned anew at the next sync */
	{"clock_ahead", 8, 8, META_REPAIR, FIX_DROP, NULL},
	{"clock_behind", 8, 8, META_REPAIR, FIX_DROP, NULL},
	/* orphans wait from now */
	{"orphans_at", 8, 8, META_REPAIR, FIX_NOW, NULL},
	/* the whole file's pages: walked again at the next sync */
	{"pages_checked", 8, 8, META_REPAIR, FIX_DROP, NULL},
	/* the words a sync owes of changes it lost (replica_outbox.c) */
	{RPL_LOST_NOTE_KEY, 9, 8 + 2 * ROVE_MAX_LOST_NOTE, META_REPAIR, FIX_DROP, NULL},
};

static const struct meta_key *meta_key_of(const char *key)
{
	for (size_t i = 0; i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++)
		if (strcmp(meta_keys[i].key, key) == 0)
			return &meta_keys[i];
	return NULL;
}

/* Whether a value of n bytes may be key's (of a key the table lacks:
 * whatever its reader checks). */
static bool meta_size_ok(const char *key, size_t n)
{
	const struct meta_key *m = meta_key_of(key);

	return m == NULL || (n >= m->min && n <= m->max);
}

static void say_bad_setting(const char *setting)
{
	rove_error("the replica's setting '%s' is damaged or missing: set it anew with 'rove config %s VALUE'", setting,
		   setting);
}

int rpl_meta_damaged(const char *key)
{
	const struct meta_key *m = meta_key_of(key);

	if (m != NULL && m->way == META_REPAIR)
		rpl_say_damaged_key(key);
	else if (m != NULL && m->way == META_CONFIG)
		say_bad_setting(m->setting);
	else
		rove_error("the replica is damaged (its '%s' does not read): 'rove sync --repair' makes it anew "
			   "from what of it reads whole; if it cannot, set up a new replica in another directory with "
			   "'rove init', and sync",
			   key);
	return ROVE_EPROTO;
}

/* The newest stamp of the ops in table t (outbox: after their 8-byte
 * acknowledgement; journal: as they are), into *max. One that does not
 * decode is passed over. */
static int ops_newest(const rove_replica *r, MDB_txn *txn, MDB_dbi t, bool outbox, rpl_work *w, uint64_t *max)
{
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, t, &c), "cursor");

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t acked;
		int drc = outbox ? rpl_outbox_decode(r, &k, &v, &acked, &w->op) : rpl_journal_dec(&k, &v, &w->op);
		for (uint32_t i = 0; drc == ROVE_OK && i < w->op.fs.n; i++)
			if (w->op.fs.f[i].st.hlc.v > *max)
				*max = w->op.fs.f[i].st.hlc.v;
	}
	if (mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "replica");
	mdb_cursor_close(c);
	return rc;
}

/* The newest stamp this replica made that it still holds (its pending
 * ops and its journal), into *max where it is larger. */
static int stamps_newest(rove_replica *r, MDB_txn *txn, rpl_work *w, uint64_t *max)
{
	int rc = ops_newest(r, txn, r->outbox, true, w, max);

	return rc == ROVE_OK ? ops_newest(r, txn, r->journal, false, w, max) : rc;
}

int rpl_clock_past_all(rove_replica *r, MDB_txn *txn, rpl_work *w, uint64_t *v)
{
	uint64_t hlc = 0;
	int rc;

	*v = rove_hlc_from_ms(rove_wall_ms()).v;
	/* (the replica's clock, if it reads: it follows every stamp seen) */
	if (rove_db_get_u64(txn, r->meta, "hlc", &hlc) == ROVE_OK && hlc > *v)
		*v = hlc;
	rc = stamps_newest(r, txn, w, v);
	if (rc == ROVE_OK)
		(*v)++;
	return rc;
}

/* Sets the damaged META_REPAIR key m anew in txn (r's tables open). */
static int meta_fix_one(rove_replica *r, MDB_txn *txn, const struct meta_key *m, rpl_work *w)
{
	MDB_val k = {strlen(m->key), (void *)m->key};
	uint64_t v = 0;
	MDB_stat s0, s1;
	int rc = ROVE_OK;

	switch (m->fix) {
	case FIX_DROP:
		return rove_db_err(mdb_del(txn, r->meta, &k, NULL), "meta");
	case FIX_ROLE:
		return rove_db_put_str(txn, r->meta, m->key, "unknown");
	case FIX_NOW:
		return rove_db_put_u64(txn, r->meta, m->key, rove_wall_ms());
	case FIX_CLOCK:
		rc = rpl_clock_past_all(r, txn, w, &v);
		return rc == ROVE_OK ? rove_db_put_u64(txn, r->meta, m->key, v) : rc;
	case FIX_ZERO:
		/* the base: the one that holds records (the other is emptied
		 * at each swap), 0 if both or neither do (the repair's
		 * snapshot replaces it) */
		if (strcmp(m->key, "base") == 0) {
			rc = rove_db_err(mdb_stat(txn, r->bases[0], &s0), "base0");
			if (rc == ROVE_OK)
				rc = rove_db_err(mdb_stat(txn, r->bases[1], &s1), "base1");
			v = rc == ROVE_OK && s0.ms_entries == 0 && s1.ms_entries > 0;
		}
		return rc == ROVE_OK ? rove_db_put_u64(txn, r->meta, m->key, v) : rc;
	}
	ROVE_ASSERT(!"a meta key without a fix");
	return ROVE_EPROTO;
}

/* ---- a damaged free list: made anew by a copy of the records ---- */

typedef struct pages_faults {
	uint64_t free_list; /* faults of the free list alone */
	uint64_t trees;     /* the rest */
} pages_faults;

/* Counts a fault (a walk's said once already: the salvage's). */
static void pages_fault_quiet(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	pages_faults *f = arg;

	(void)page;
	(void)what;
	if (free_list)
		f->free_list++;
	else
		f->trees++;
}

/* Counts a fault and says the first three. */
static void pages_fault(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	const pages_faults *f = arg;

	pages_fault_quiet(arg, page, free_list, what);
	if (f->free_list + f->trees <= 3)
		rove_warn("the replica's file: %s", what);
}

/* Whether another process has the LMDB environment in dir open: LMDB
 * holds a shared lock on the first byte of its lock file while it does
 * (and takes it exclusively to find itself alone). *fd: the lock file,
 * still locked by this process when no one else has it (-1: none). */
static int others_open(const char *dir, bool *others, int *fd)
{
	char path[REPLICA_PATH_MAX];
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	int rc = replica_path(dir, "lock.mdb", path);

	*others = false;
	*fd = -1;
	if (rc != ROVE_OK)
		return rc;
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? ROVE_OK : rove_err_errno(errno);
	if (fcntl(*fd, F_SETLK, &lk) == 0)
		return ROVE_OK;
	rc = errno;
	close(*fd);
	*fd = -1;
	if (rc == EAGAIN || rc == EACCES) {
		*others = true;
		return ROVE_OK;
	}
	return rove_err_errno(rc);
}

/* Table name (a key of src's main tree) of read txn rt, entry by entry
 * in key order, into write txn wt. */
static int copy_table(MDB_txn *rt, MDB_txn *wt, const MDB_val *name)
{
	char n[64];
	MDB_dbi s, d;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int g, rc;

	if (name->mv_size == 0 || name->mv_size >= sizeof(n) || memchr(name->mv_data, '\0', name->mv_size) != NULL)
		return ROVE_EPROTO; /* no table of a replica's */
	memcpy(n, name->mv_data, name->mv_size);
	n[name->mv_size] = '\0';
	rc = rove_db_err(mdb_dbi_open(rt, n, 0, &s), n);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_dbi_open(wt, n, MDB_CREATE, &d), n);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(rt, s, &c), n);
	for (g = rc == ROVE_OK ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == ROVE_OK && g == 0;
	     g = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int p = mdb_put(wt, d, &k, &v, MDB_APPEND);
		/* A damaged tree's keys out of order (attack eighty-two: the
		 * copy failed, "already exists", and with it every repair):
		 * such a key goes where it belongs, the last of equal ones
		 * kept; the repair then checks what the tables hold. */
		if (p == MDB_KEYEXIST)
			p = mdb_put(wt, d, &k, &v, 0);
		rc = rove_db_err(p, n);
	}
	if (rc == ROVE_OK && g != MDB_NOTFOUND)
		rc = rove_db_err(g, n);
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

/* Every table of src, entry by entry, into the new environment dst: what
 * is read is the trees alone, never the free list, which dst makes anew
 * (LMDB's own compacting copy counts the old list's pages first). */
static int copy_tables(MDB_env *src, MDB_env *dst)
{
	MDB_txn *rt = NULL, *wt = NULL;
	MDB_cursor *names = NULL;
	MDB_dbi main;
	MDB_val k, v;
	int g = MDB_NOTFOUND, rc = rove_db_err(mdb_txn_begin(src, NULL, MDB_RDONLY, &rt), "begin");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_begin(dst, NULL, 0, &wt), "begin");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_dbi_open(rt, NULL, 0, &main), "main");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(rt, main, &names), "main");
	for (g = rc == ROVE_OK ? mdb_cursor_get(names, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == ROVE_OK && g == 0;
	     g = mdb_cursor_get(names, &k, &v, MDB_NEXT))
		rc = copy_table(rt, wt, &k);
	if (rc == ROVE_OK && g != MDB_NOTFOUND)
		rc = rove_db_err(g, "main");
	if (names != NULL)
		mdb_cursor_close(names);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_commit(wt), "commit");
	else if (wt != NULL)
		mdb_txn_abort(wt);
	if (rt != NULL)
		mdb_txn_abort(rt);
	return rc;
}

/* The tables a salvage must meet: the replica's own state and its
 * pending changes (none of which the server holds). The bases, made
 * empty when gone, come again from the server; the open makes the rest
 * anew (tables_anew). */
static const char *const salvage_needed[] = {"meta", "outbox", "base0", "base1"};
#define SALVAGE_MUST 3u /* meta and outbox */
/* What makes the replica itself (META_NEW); its other meta entries, when
 * lost, are set anew or asked for (rove_replica_meta_fix, rove config). */
static const char *const salvage_self[] = {"format", "id", "user"};

/* The tables whose entries a salvage counts against their headers', to
 * say what it lost: meta, the pending changes, the refused ones; and the
 * index of the pending changes, to know whether it lost any. */
#define SALVAGE_COUNTED 4
enum { COUNT_META, COUNT_OUTBOX, COUNT_REJECTED, COUNT_PENDING };
static const char *const salvage_counted[SALVAGE_COUNTED] = {"meta", "outbox", "rejected", "pending"};

static int counted_index(const char *table)
{
	for (int i = 0; i < SALVAGE_COUNTED; i++)
		if (strcmp(table, salvage_counted[i]) == 0)
			return i;
	return -1;
}

/* An entry kept aside in b: key size(4) value size(4) key value; and the
 * entry at *p of such a buffer ending at end, *p moved past it. */
static int salvage_kv_put(rove_buf *b, const void *key, size_t klen, const void *val, size_t vlen)
{
	uint32_t sizes[2] = {(uint32_t)klen, (uint32_t)vlen};
	int rc;

	ROVE_ASSERT(klen <= UINT32_MAX && vlen <= UINT32_MAX); /* (LMDB's sizes) */
	rc = rove_buf_append(b, sizes, sizeof(sizes));
	if (rc == ROVE_OK)
		rc = rove_buf_append(b, key, klen);
	if (rc == ROVE_OK)
		rc = rove_buf_append(b, val, vlen);
	return rc;
}

static void salvage_kv_next(const uint8_t **p, const uint8_t *end, MDB_val *k, MDB_val *v)
{
	uint32_t sizes[2];

	ROVE_ASSERT(*p + sizeof(sizes) <= end);
	memcpy(sizes, *p, sizeof(sizes));
	k->mv_size = sizes[0];
	k->mv_data = (void *)(*p + sizeof(sizes));
	v->mv_size = sizes[1];
	v->mv_data = (void *)(*p + sizeof(sizes) + sizes[0]);
	*p += sizeof(sizes) + sizes[0] + sizes[1];
	ROVE_ASSERT(*p <= end);
}

/* A salvage's copy: each entry read whole, into its table of wt. */
typedef struct salvage_ctx {
	MDB_txn *wt;
	char table[ROVE_MAX_NAME * 4 + 1]; /* the table dbi is (none: "") */
	MDB_dbi dbi;
	uint64_t copied, passed; /* entries put, and left out (a key LMDB cannot take) */
	/* of salvage_counted[]: each table's header's count, entries put */
	uint64_t said[SALVAGE_COUNTED], put[SALVAGE_COUNTED];
	unsigned tables; /* of salvage_needed[], those met (a bit each) */
	unsigned self;   /* of salvage_self[], those copied whole (a bit each) */
	/* Entries kept aside (salvage_kv): pending changes met outside the
	 * outbox; the page of no tree (ROVE_DB_LOST_PAGES) being given, and
	 * which of salvage_self[] it holds (a bit each); the first whole page
	 * holding them all (meta's own, lost with its table's record), and
	 * how many such pages were met. */
	rove_buf strays, page, meta_page;
	unsigned page_self;
	unsigned meta_pages;
	uint64_t lost_leaves; /* pages of no tree read as leaves */
	uint64_t homed;       /* pending changes put back under their number (a bit of theirs flipped) */
	unsigned counted_met; /* of salvage_counted[], the tables met (a bit each) */
} salvage_ctx;

/* The page of no tree being given ends: kept when it holds what makes
 * the replica itself. */
static int lost_page_end(salvage_ctx *x)
{
	if (x->page_self == (1u << (sizeof(salvage_self) / sizeof(salvage_self[0]))) - 1 && x->meta_pages++ == 0) {
		rove_buf t = x->meta_page;
		x->meta_page = x->page;
		x->page = t;
	}
	rove_buf_reset(&x->page);
	x->page_self = 0;
	return ROVE_OK;
}

/* Entry key/val of a page of no tree, kept with its page's. */
static int lost_page_entry(salvage_ctx *x, const void *key, size_t klen, const void *val, size_t vlen)
{
	for (unsigned i = 0; i < sizeof(salvage_self) / sizeof(salvage_self[0]); i++)
		if (klen == strlen(salvage_self[i]) && memcmp(key, salvage_self[i], klen) == 0 &&
		    meta_size_ok(salvage_self[i], vlen))
			x->page_self |= 1u << i;
	return salvage_kv_put(&x->page, key, klen, val, vlen);
}

static int salvage_one(void *arg, const char *table, const void *key, size_t klen, const void *val, size_t vlen)
{
	salvage_ctx *x = arg;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int mrc, c;

	/* A pending change's bytes, sum and all, outside the outbox: on a
	 * page the outbox's tree lost (its root's number damaged), or in a
	 * table whose name is damaged ("outbox" read as "ou"): kept aside
	 * for salvage_strays (attack eighty-seven: every pending change
	 * lost, or the repair refused, while their pages read whole). */
	if (key != NULL && klen == 8 && strcmp(table, "outbox") != 0 && strcmp(table, "journal") != 0 &&
	    rpl_outbox_summed(&k, &v) && (mrc = salvage_kv_put(&x->strays, key, klen, val, vlen)) != ROVE_OK)
		return mrc; /* (no room: the repair fails, the file stays as it is) */
	/* (none of them is copied as it is: meta's own page, below) */
	if (strcmp(table, ROVE_DB_LOST_PAGES) == 0) {
		x->lost_leaves += key == NULL;
		return key == NULL ? lost_page_end(x) : lost_page_entry(x, key, klen, val, vlen);
	}
	/* A name the walk had to escape is a damaged one's: no table of a
	 * replica's. */
	if (table[0] == '\0' || strchr(table, '\\') != NULL || strlen(table) >= sizeof(x->table)) {
		x->passed++;
		return ROVE_OK;
	}
	if (strcmp(x->table, table) != 0) {
		int orc = mdb_dbi_open(x->wt, table, MDB_CREATE, &x->dbi);
		/* (more tables than a replica has, or a name LMDB cannot take,
		 * an empty one: a damaged name's; the table it was is made anew
		 * by the open, or its loss said: attack eighty-seven, a name's
		 * size flipped to 0 failed the repair for good) */
		if (orc == MDB_DBS_FULL || orc == MDB_BAD_VALSIZE) {
			x->passed++;
			x->table[0] = '\0';
			return ROVE_OK;
		}
		if (orc != 0)
			return rove_db_err(orc, table);
		snprintf(x->table, sizeof(x->table), "%s", table);
	}
	if (key == NULL) { /* the table, made even when it is empty */
		for (unsigned i = 0; i < sizeof(salvage_needed) / sizeof(salvage_needed[0]); i++)
			if (strcmp(table, salvage_needed[i]) == 0)
				x->tables |= 1u << i;
		if ((c = counted_index(table)) >= 0 && vlen == sizeof(x->said[c])) {
			memcpy(&x->said[c], val, sizeof(x->said[c]));
			x->counted_met |= 1u << c;
		}
		return ROVE_OK;
	}
	/* (a pending change whose number had a bit flipped goes back under
	 * the number it was queued with: one flipped onto another's number
	 * was kept there, the other, whole, left out and lost; attack
	 * ninety) */
	if (strcmp(table, "outbox") == 0 && !rpl_outbox_summed(&k, &v)) {
		uint64_t home;
		uint8_t hk[8];
		MDB_val h = {sizeof(hk), hk};
		if (rpl_outbox_home(&k, &v, &home)) {
			rove_be64_put(hk, home);
			if ((mrc = mdb_put(x->wt, x->dbi, &h, &v, MDB_NOOVERWRITE)) == 0) {
				x->copied++;
				x->put[COUNT_OUTBOX]++;
				x->homed++;
				return ROVE_OK;
			}
			if (mrc != MDB_KEYEXIST)
				return rove_db_err(mrc, table);
		}
	}
	/* (a key met twice, one damaged into the other's: the first kept,
	 * the other left out, not written over it unsaid) */
	mrc = mdb_put(x->wt, x->dbi, &k, &v, MDB_NOOVERWRITE);
	/* (or an empty key, or one past LMDB's size) */
	if (mrc == MDB_BAD_VALSIZE || mrc == MDB_KEYEXIST) {
		x->passed++;
		return ROVE_OK;
	}
	if (mrc == 0) {
		x->copied++;
		if ((c = counted_index(table)) >= 0)
			x->put[c]++;
		for (unsigned i = 0; strcmp(table, "meta") == 0 && i < sizeof(salvage_self) / sizeof(salvage_self[0]);
		     i++)
			if (klen == strlen(salvage_self[i]) && memcmp(key, salvage_self[i], klen) == 0 &&
			    meta_size_ok(salvage_self[i], vlen))
				x->self |= 1u << i;
	}
	return rove_db_err(mrc, table);
}

/* A stray pending change: its number, its op's stamp, its key and value
 * in salvage_ctx's strays, and whether the salvaged index names it. */
typedef struct stray {
	uint64_t lseq;
	rove_stamp st;
	MDB_val k, v;
	bool named;
} stray;

/* By number, then the latest stamp first. */
static int stray_cmp(const void *a, const void *b)
{
	const stray *x = a, *y = b;

	if (x->lseq != y->lseq)
		return x->lseq < y->lseq ? -1 : 1;
	return -rove_stamp_cmp(&x->st, &y->st);
}

/* Whether strays need no index to vouch for them: the outbox's tree and
 * its index's both lost entries (their roots' numbers damaged), and the
 * free list read whole (its one fault, when pages are in no tree, is
 * their count), so that every page in no tree is one a tree lost, none
 * an old copy freed (attack eighty-nine: both roots lost, every pending
 * change said lost while their pages read whole). */
static bool strays_sure(const salvage_ctx *x, const pages_faults *f)
{
	bool index_lost = !(x->counted_met & (1u << COUNT_PENDING)) ||
			  x->said[COUNT_PENDING] > x->put[COUNT_PENDING];

	return f->free_list == (x->lost_leaves > 0 ? 1u : 0u) && f->trees > 0 && index_lost &&
	       x->said[COUNT_OUTBOX] > x->put[COUNT_OUTBOX];
}

/* The pending changes salvage_one met outside the outbox, put in it
 * (made when its name was lost) when the salvaged index of pending
 * changes names them and the outbox lacks them: a page of no tree may
 * be an old one (a change settled since, or refused), which the index
 * no longer names. A number met twice is one a refused change had and
 * a later change took again (attack eighty-eight: the refused claim sent
 * again, the pending one lost): the latest stamp is the later change.
 * When sure (strays_sure), those the index does not name too, as many as
 * the outbox's header says it lost at most; the index is then dropped,
 * for the open to make anew from the outbox. *adopted: how many. */
static int salvage_strays(salvage_ctx *x, bool sure, uint64_t *adopted)
{
	const uint8_t *p = (const uint8_t *)x->strays.data, *end = p + x->strays.len;
	MDB_dbi pending, outbox;
	bool have_outbox = (x->tables & 2u) != 0, have_pending, unnamed = false;
	stray *list = NULL;
	size_t n = 0, cap = 0, numbers = 0;
	int rc;

	*adopted = 0;
	if (x->strays.len == 0)
		return ROVE_OK;
	rc = mdb_dbi_open(x->wt, "pending", 0, &pending);
	have_pending = rc == 0;
	if (rc == MDB_NOTFOUND && !sure)
		return ROVE_OK; /* (nothing names them: none is sure) */
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc == 0 && have_outbox)
		rc = mdb_dbi_open(x->wt, "outbox", 0, &outbox);
	if (rc != 0)
		return rove_db_err(rc, "pending");
	while (rc == 0 && p < end) {
		uint8_t pkey[RPL_PENDING_KEY];
		MDB_val k, v, pk = {sizeof(pkey), pkey}, pv;
		rove_stamp st;
		bool named = false;
		stray *more;
		salvage_kv_next(&p, end, &k, &v);
		if (rpl_outbox_pending_key(&k, &v, pkey, &st) != ROVE_OK)
			continue;
		if (have_pending && (rc = mdb_get(x->wt, pending, &pk, &pv)) == 0)
			named = true;
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0 || (!named && !sure))
			continue;
		if ((more = rove_array_room(list, n, &cap, sizeof(*list))) == NULL) {
			free(list);
			return ROVE_ENOMEM;
		}
		list = more;
		list[n++] = (stray){rove_be64_get(k.mv_data), st, k, v, named};
	}
	if (rc != 0) {
		free(list);
		return rove_db_err(rc, "pending");
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), stray_cmp);
	for (size_t i = 0; i < n; i++)
		numbers += i == 0 || list[i].lseq != list[i - 1].lseq;
	/* (more than the outbox lost: not all of them its own) */
	if (sure && numbers > x->said[COUNT_OUTBOX] - x->put[COUNT_OUTBOX])
		sure = false;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0 && list[i].lseq == list[i - 1].lseq)
			continue; /* (an older change that had its number) */
		if (!list[i].named && !sure)
			continue;
		if (!have_outbox) {
			rc = mdb_dbi_open(x->wt, "outbox", MDB_CREATE, &outbox);
			have_outbox = rc == 0;
		}
		if (rc == 0)
			rc = mdb_put(x->wt, outbox, &list[i].k, &list[i].v, MDB_NOOVERWRITE);
		if (rc == 0) {
			(*adopted)++;
			unnamed = unnamed || !list[i].named;
		}
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	free(list);
	if (rc != 0)
		return rove_db_err(rc, "outbox");
	if (have_outbox)
		x->tables |= 2u;
	/* (an index that does not name them all: made anew by the open) */
	if (unnamed && have_pending)
		return rove_db_err(mdb_drop(x->wt, pending, 1), "pending");
	return ROVE_OK;
}

/* How many entries of counted table c a salvage did not put: its
 * header's count past those put, or 0 when none, or when that count is
 * past what npages pages could hold (damaged too: it says nothing of how
 * many). */
static uint64_t salvage_lost(const salvage_ctx *x, int c, uint64_t npages)
{
	uint64_t lost = x->said[c] > x->put[c] ? x->said[c] - x->put[c] : 0;

	return lost <= npages * 1000 ? lost : 0;
}

/* The replica's own settings, lost with meta's record in the main tree
 * (its root's number damaged: a new replica, its pending changes lost,
 * attack eighty-seven's hunt, seeds 100015, 100246) but whole on a page
 * of no tree: put in meta when that is the only such page (two may be
 * an old one and the latest: neither is sure). *kept: how many. */
static int salvage_meta_page(salvage_ctx *x, uint64_t *kept)
{
	const uint8_t *p = (const uint8_t *)x->meta_page.data, *end = p + x->meta_page.len;
	MDB_dbi meta;
	int rc;

	*kept = 0;
	if (x->meta_pages != 1 || x->self == (1u << (sizeof(salvage_self) / sizeof(salvage_self[0]))) - 1)
		return ROVE_OK;
	rc = rove_db_err(mdb_dbi_open(x->wt, "meta", MDB_CREATE, &meta), "meta");
	while (rc == ROVE_OK && p < end) {
		MDB_val k, v;
		salvage_kv_next(&p, end, &k, &v);
		int mrc = mdb_put(x->wt, meta, &k, &v, MDB_NOOVERWRITE);
		if (mrc == MDB_KEYEXIST || mrc == MDB_BAD_VALSIZE)
			continue;
		rc = rove_db_err(mrc, "meta");
		if (rc != ROVE_OK)
			break;
		(*kept)++;
		x->put[COUNT_META]++;
		for (unsigned i = 0; i < sizeof(salvage_self) / sizeof(salvage_self[0]); i++)
			if (k.mv_size == strlen(salvage_self[i]) && memcmp(k.mv_data, salvage_self[i], k.mv_size) == 0)
				x->self |= 1u << i;
	}
	if (rc == ROVE_OK)
		x->tables |= 1u;
	return rc;
}

/* What of src's tables reads whole from its file (rove_db_pages_salvage:
 * pages checked before they are read, never through LMDB's cursors,
 * which a damaged page can crash), into the new environment dst; *said:
 * the pending changes it said lost by a count. */
static int salvage_tables(MDB_env *src, MDB_env *dst, uint64_t *said)
{
	MDB_txn *rt = NULL;
	salvage_ctx x;
	pages_faults f = {0, 0};
	uint64_t npages = 0, adopted = 0, meta_kept = 0, lost;
	int rc;

	*said = 0;
	memset(&x, 0, sizeof(x));
	rove_buf_init(&x.strays);
	rove_buf_init(&x.page);
	rove_buf_init(&x.meta_page);
	rc = rove_db_err(mdb_txn_begin(src, NULL, MDB_RDONLY, &rt), "begin");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_begin(dst, NULL, 0, &x.wt), "begin");
	if (rc == ROVE_OK)
		rc = rove_db_pages_salvage(src, rt, 0, pages_fault_quiet, &f, salvage_one, &x, &npages);
	if (rc == ROVE_OK)
		rc = lost_page_end(&x);
	if (rc == ROVE_OK)
		rc = salvage_strays(&x, strays_sure(&x, &f), &adopted);
	if (rc == ROVE_OK)
		rc = salvage_meta_page(&x, &meta_kept);
	rove_buf_free(&x.strays);
	rove_buf_free(&x.page);
	rove_buf_free(&x.meta_page);
	/* Never a file that does not open in place of one that may still
	 * be read (attack eighty-three: a damaged main tree or meta lost
	 * tables or the replica's user, and every pending change with them):
	 * ROVE_EPROTO, and the file stays as it is. Meta's other entries
	 * lost do not make it so (flip 48: one of the pull's lost refused
	 * the salvage, and a damaged base then failed every repair). */
	if (rc == ROVE_OK && ((x.tables & SALVAGE_MUST) != SALVAGE_MUST ||
			      x.self != (1u << (sizeof(salvage_self) / sizeof(salvage_self[0]))) - 1)) {
		rc = ROVE_EPROTO; /* (said by copy_over) */
	}
	for (unsigned i = 0; rc == ROVE_OK && i < sizeof(salvage_needed) / sizeof(salvage_needed[0]); i++) {
		MDB_dbi dbi;
		if (!(x.tables & (1u << i)))
			rc = rove_db_err(mdb_dbi_open(x.wt, salvage_needed[i], MDB_CREATE, &dbi), salvage_needed[i]);
	}
	if (rc == ROVE_OK && x.put[COUNT_META] < x.said[COUNT_META])
		rove_warn("%" PRIu64 " of the replica's own records could not be read: the repair sets them anew",
			  x.said[COUNT_META] - x.put[COUNT_META]);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_commit(x.wt), "commit");
	else if (x.wt != NULL)
		mdb_txn_abort(x.wt);
	if (rt != NULL)
		mdb_txn_abort(rt);
	if (rc == ROVE_OK)
		rove_warn("the replica's file made anew from what of it reads whole: %" PRIu64 " entr%s kept%s", x.copied,
			  x.copied == 1 ? "y" : "ies", x.passed > 0 ? ", some that cannot be stored left out" : "");
	if (rc == ROVE_OK && meta_kept > 0)
		rove_warn("the replica's own settings found whole on a page their table had lost (its record damaged): "
			  "kept");
	if (rc == ROVE_OK && x.homed > 0)
		rove_warn("%" PRIu64 " pending change%s had a bit of %s number flipped: put back under the number %s "
			  "had, the change%s whole",
			  x.homed, x.homed == 1 ? "" : "s", x.homed == 1 ? "its" : "their", x.homed == 1 ? "it" : "they",
			  x.homed == 1 ? "" : "s");
	if (rc == ROVE_OK && adopted > 0)
		rove_warn("%" PRIu64 " pending change%s found whole on pages their table had lost (its record damaged): "
			  "kept, to be sent",
			  adopted, adopted == 1 ? "" : "s");
	x.put[COUNT_OUTBOX] += adopted;
	/* (refusals are this replica's record of what the server refused,
	 * kept for the rep to act on: one lost unsaid left 'rove rejected'
	 * empty, attack eighty-nine; the server keeps them a while) */
	if (rc == ROVE_OK && (lost = salvage_lost(&x, COUNT_REJECTED, npages)) > 0)
		rove_warn("%" PRIu64 " refused change%s of this replica's list could not be read (damaged): gone from "
			  "'rove rejected'; a manager still sees the server's copies with 'rove conflicts'",
			  lost, lost == 1 ? "" : "s");
	if (rc == ROVE_OK && (lost = salvage_lost(&x, COUNT_OUTBOX, npages)) > 0) {
		*said = lost;
		rove_warn("about %" PRIu64 " pending change%s of this replica could not be read (damaged): lost, never "
			  "to be sent; the others are kept",
			  lost, lost == 1 ? "" : "s");
	} else if (rc == ROVE_OK && x.said[COUNT_OUTBOX] > x.put[COUNT_OUTBOX])
		rove_warn("some pending changes of this replica may not have been read (its count of them is damaged "
			  "too): those are lost; the others are kept");
	return rc;
}

/* The tables of env (dir's replica), copied into a new environment in
 * dir/repair.tmp whose file then replaces dir's, made durable; salvage:
 * by rove_db_pages_salvage, from a file whose trees are damaged, and
 * when that refuses (ROVE_EPROTO: the damage is in what makes the
 * replica one) and the free list is damaged too (free_list), by LMDB's
 * reads as before, which a free list's damage needs. *lost: the pending
 * changes the salvage said lost. */
static int copy_over(MDB_env *env, const char *dir, bool salvage, bool free_list, uint64_t *lost)
{
	char tmp[REPLICA_PATH_MAX], made_file[REPLICA_PATH_MAX], path[REPLICA_PATH_MAX], lock[REPLICA_PATH_MAX];
	rove_db_made made;
	MDB_env *dst = NULL;
	int dfd, rc = replica_path(dir, "repair.tmp", tmp);

	if (rc == ROVE_OK)
		rc = replica_path(tmp, "data.mdb", made_file);
	if (rc == ROVE_OK)
		rc = replica_path(tmp, "lock.mdb", lock);
	if (rc == ROVE_OK)
		rc = replica_path(dir, "data.mdb", path);
	if (rc != ROVE_OK)
		return rc;
	/* (What a repair cut short left there.) */
	(void)unlink(made_file);
	(void)unlink(lock);
	(void)rmdir(tmp);
	rc = rove_db_create(tmp, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &dst, &made);
	if (rc != ROVE_OK)
		return rc;
	rc = salvage ? salvage_tables(env, dst, lost) : copy_tables(env, dst);
	if (salvage && rc == ROVE_EPROTO)
		rove_warn("the replica's damage is in what makes it a replica (its list of tables, or its own "
			  "settings): %s",
			  free_list ? "its file is made anew by a copy of the records as LMDB reads them"
				    : "it is not made anew, and the repair goes on with the file as it is");
	if (salvage && rc == ROVE_EPROTO && free_list)
		rc = copy_tables(env, dst); /* (the salvage committed nothing) */
	mdb_env_close(dst);
	if (rc == ROVE_OK && rename(made_file, path) != 0)
		rc = rove_err_errno(errno);
	if (rc == ROVE_OK) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0)
			rc = rove_err_errno(errno);
		if (dfd >= 0)
			close(dfd);
	}
	(void)unlink(made_file);
	(void)unlink(lock);
	(void)rmdir(tmp);
	return rc;
}

/* The tables every sync writes (meta, the pending changes, their index,
 * the local copies, refusals), walked before it writes. */
static const char *const sync_written[] = {"meta", "outbox", "pending", "view", "rejected", NULL};

/* The walk of rove_replica_pages_sound (pull: the whole file's, before a
 * pull's records are written, its words saying so). */
static int pages_sound(rove_replica *r, bool pull)
{
	/* (the bases, indexes and journal, which may be most of the file -
	 * a journal keeps up to ROVE_REPLICA_JOURNAL_OPS ops, megabytes -
	 * are walked once every ROVE_PAGES_CHECK_EVERY_MS, or before a
	 * pull writes records to a small file: a damaged page LMDB writes
	 * through damages the process's memory; the tables walked at each
	 * sync hold what is pending, a few pages) */
	pages_faults f = {0, 0};
	uint64_t checked = 0, npages = 0, now = rove_wall_ms();
	bool whole = pull;
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	/* (a value that does not read: walked now, and written anew) */
	if (!pull && rpl_meta_u64(txn, r->meta, "pages_checked", &checked) != ROVE_OK)
		checked = 0;
	if (!pull)
		whole = checked > now || now - checked >= ROVE_PAGES_CHECK_EVERY_MS;
	rc = whole ? rove_db_pages_check(r->env, txn, 0 /* plain */, pages_fault, &f, &npages)
		   : rove_db_pages_check_tables(r->env, txn, 0 /* plain */, sync_written, pages_fault, &f);
	mdb_txn_abort(txn);
	if (rc == ROVE_OK && f.trees + f.free_list > 0) {
		damage_said++;
		rove_error("the replica's file is damaged (%" PRIu64 " fault(s) in %s): %s; 'rove sync --repair' makes "
			   "it anew from what of it reads whole",
			   f.trees + f.free_list,
			   whole ? "its pages" : "the tables of its pending changes and its own state",
			   pull ? "the server's changes were not written (what this sync sent and was told is kept)"
				: "nothing was sent or written");
		return ROVE_EPROTO;
	}
	if (rc == ROVE_OK && whole)
		r->pages_walked_ms = now;
	return rc;
}

int rove_replica_pages_sound(rove_replica *r)
{
	return pages_sound(r, false);
}

/* Whether r's file is one a pull walks whole before it writes (at most
 * ROVE_PAGES_CHECK_WHOLE_BYTES; a bigger one is left to the day's walk). */
static bool walked_by_pull(rove_replica *r)
{
	MDB_envinfo info;
	MDB_stat st;

	return mdb_env_info(r->env, &info) == 0 && mdb_env_stat(r->env, &st) == 0 &&
	       ((uint64_t)info.me_last_pgno + 1) * st.ms_psize <= ROVE_PAGES_CHECK_WHOLE_BYTES;
}

int rove_replica_pages_sound_pull(rove_replica *r)
{
	/* (walked whole already in this sync, or too big: the day's walk) */
	if (r->pages_walked_ms != 0 || !walked_by_pull(r))
		return ROVE_OK;
	return pages_sound(r, true);
}

int rove_replica_pages_fix(const char *dir, bool *fixed, uint64_t *lost)
{
	char path[REPLICA_PATH_MAX];
	struct stat sb;
	enum rove_db_access access;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	pages_faults f = {0, 0};
	uint64_t npages = 0;
	bool others = false;
	int lfd = -1, rc;

	*fixed = false;
	*lost = 0;
	if (replica_path(dir, "data.mdb", path) != ROVE_OK || stat(path, &sb) != 0)
		return ROVE_OK; /* none: the open says so */
	if (rove_db_open_any(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &env, &access) != ROVE_OK)
		return ROVE_OK; /* the open says why */
	if (access != ROVE_DB_WRITABLE) {
		mdb_env_close(env);
		return ROVE_OK; /* nothing is written: the open says why */
	}
	rc = rove_db_err(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		rc = rove_db_pages_check(env, txn, 0 /* the replica's tables: plain */, pages_fault, &f, &npages);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != ROVE_OK || (f.free_list == 0 && f.trees == 0)) {
		mdb_env_close(env);
		return rc;
	}
	/* Its next writer would hand out pages in use, or fault on the list:
	 * a crash, or pending changes overwritten (attack sixty-nine). The
	 * copy reads the trees alone. It is swapped in only while no other
	 * process has the replica open, and none may open it meanwhile: its
	 * writes would go to the file swapped out, lost (attack seventy).
	 * LMDB holds the lock file's first byte shared while it has the
	 * environment open, and waits for it while another holds it alone:
	 * this process holds it alone from here to the swap, reading the old
	 * file without LMDB's lock file, and then opens the new one as its
	 * first user, which sets the lock file up anew for it (its state was
	 * the old file's), before the commands that waited go on. */
	if (f.trees > 0)
		/* A damaged tree: LMDB reads its pages as they are, and a
		 * command crashed on one, the repair too, for good (attack
		 * eighty-two: a damaged outbox kept 60 changes from ever
		 * going). What reads whole is copied, by rove's own walk. */
		rove_warn("the replica's file is damaged (%" PRIu64 " fault(s) in its tables, %" PRIu64
			  " in its free list, of %" PRIu64 " pages): making it anew from what of it reads whole; "
			  "records lost come again from the server, pending changes lost are said",
			  f.trees, f.free_list, npages);
	else
		rove_warn("the replica's free list is damaged (%" PRIu64 " fault(s) of %" PRIu64
			  " pages): making it anew by a copy of the records",
			  f.free_list, npages);
	mdb_env_close(env); /* (drops this process's lock on the lock file) */
	env = NULL;
	rc = others_open(dir, &others, &lfd);
	if (rc == ROVE_OK && others) {
		rove_error("another rove process (a sync, a feed?) has the replica in %s open: stop it and run "
			   "'rove sync --repair' again", dir);
		return ROVE_EBUSY;
	}
	if (rc == ROVE_OK && lfd < 0)
		rc = ROVE_EPROTO; /* no lock file beside a data file LMDB opened */
	if (rc == ROVE_OK)
		rc = rove_db_open_alone(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &env);
	if (rc == ROVE_OK)
		rc = copy_over(env, dir, f.trees > 0, f.free_list > 0, lost);
	if (env != NULL)
		mdb_env_close(env); /* (without the lock file: this process's lock stays) */
	env = NULL;
	/* The lock file set up for the new file (or the old one still), the
	 * waiting ones let go by LMDB sharing it; closing the environment
	 * drops every lock of this process on the file. */
	if (lfd >= 0 && rove_db_open_first(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &env) == ROVE_OK)
		mdb_env_close(env);
	if (lfd >= 0)
		close(lfd);
	if (rc == ROVE_EPROTO && f.trees > 0)
		return ROVE_OK; /* the salvage refused (said): left as it is */
	/* (what makes it a replica lost, and LMDB's own copy failed too:
	 * there is nothing a repair can make a replica of) */
	if (rc != ROVE_OK && rc != ROVE_EBUSY && rc != ROVE_ENOSPC && rc != ROVE_ENOMEM) {
		rove_error("cannot make the replica's file anew (%s): set up a new replica in another directory with "
			   "'rove init', and sync; changes of this one still pending are lost with it",
			   rove_strerror(rc));
		return rc;
	}
	if (rc != ROVE_OK) {
		rove_error("cannot make the replica's file anew: %s", rove_strerror(rc));
		return rc;
	}
	*fixed = true;
	return ROVE_OK;
}

/* Whether the outbox's entries carry sums, as meta's format in txn
 * says (r->outbox_sums; sticky once seen: a format is only raised). A
 * format that does not read is the newest's (the open refuses it: the
 * repair's tools read it so). */
static int sums_learn(rove_replica *r, MDB_txn *txn)
{
	uint64_t format = REPLICA_FORMAT;
	int rc;

	if (r->sums_known) {
		r->outbox_sums = true;
		return ROVE_OK;
	}
	rc = rove_db_get_u64(txn, r->meta, "format", &format);
	if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	r->outbox_sums = r->sums_known = format >= REPLICA_FORMAT_SUMS;
	return rc;
}

/* A format number this rove does not read, one bit from its own, where
 * a pending change holds its format-5 sum: the number is damaged, not
 * another rove's (attack eighty-six: one bit of "format" made every
 * command say "made by another version", the repair too, with the
 * pending changes whole). Set to 5, said; others damaged, mended or an
 * older rove's are the sweep's, as ever (attack eighty-seven: any of
 * them kept the number as it was, for good). Without such a change, the
 * way out is said. */
static int format_fix(rove_replica *r, MDB_txn *txn)
{
	uint64_t format = 0, n = 0, nsum = 0, bit;
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = rove_db_get_u64(txn, r->meta, "format", &format);

	bit = format ^ REPLICA_FORMAT;
	if (rc != ROVE_OK || (format >= REPLICA_FORMAT_OLDEST && format <= REPLICA_FORMAT) || bit == 0 ||
	    (bit & (bit - 1)) != 0)
		return ROVE_OK; /* (one missing or of another size: the open says so) */
	rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		nsum += rpl_outbox_summed(&k, &v);
		n++;
	}
	mdb_cursor_close(c);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "outbox");
	if (nsum == 0) {
		rove_error("the replica's record of its format reads %" PRIu64 ", which this rove does not read, and %s: "
			   "if no other version of rove was used on it, set up a new replica in another directory with "
			   "'rove init', and sync%s",
			   format, n == 0 ? "it holds no pending change to show which it is" :
					    "none of its pending changes shows which it is",
			   n == 0 ? " (nothing of this one is lost)" : "; its pending changes are lost with it");
		return ROVE_OK;
	}
	rc = rove_db_put_u64(txn, r->meta, "format", REPLICA_FORMAT);
	if (rc == ROVE_OK)
		rove_warn("the replica's record of its format was damaged (it read %" PRIu64 "): set anew to %d, as %" PRIu64
			  " of its %" PRIu64 " pending change%s show%s",
			  format, REPLICA_FORMAT, nsum, n, n == 1 ? "" : "s", nsum == 1 ? "s" : "");
	return rc;
}

int rove_replica_meta_fix(const char *dir)
{
	char path[REPLICA_PATH_MAX];
	struct stat sb;
	rove_replica r;
	MDB_txn *txn = NULL;
	rpl_work *w;
	int rc;

	memset(&r, 0, sizeof(r));
	if (replica_path(dir, "data.mdb", path) != ROVE_OK || stat(path, &sb) != 0)
		return ROVE_OK; /* none: the open says so */
	if (rove_db_open_any(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &r.env, &r.access) != ROVE_OK)
		return ROVE_OK; /* the open says why */
	w = rpl_work_new();
	rc = w == NULL ? ROVE_ENOMEM : ROVE_OK;
	if (rc == ROVE_OK && r.access == ROVE_DB_WRITABLE)
		rc = rove_db_err(mdb_txn_begin(r.env, NULL, 0, &txn), "begin");
	if (rc == ROVE_OK && txn != NULL && open_dbis(&r, txn, 0) != ROVE_OK) {
		mdb_txn_abort(txn); /* not a whole replica: the open says so */
		txn = NULL;
	}
	if (rc == ROVE_OK && txn != NULL)
		rc = sums_learn(&r, txn);
	for (size_t i = 0; rc == ROVE_OK && txn != NULL && i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++) {
		const struct meta_key *m = &meta_keys[i];
		MDB_val k = {strlen(m->key), (void *)m->key}, v;
		int mrc;
		if (m->way != META_REPAIR)
			continue;
		mrc = mdb_get(txn, r.meta, &k, &v);
		if (mrc == MDB_NOTFOUND && strcmp(m->key, "base") == 0) {
			bool gone = false;
			rc = base_gone(txn, r.meta, &gone);
			if (rc == ROVE_OK && gone)
				rc = meta_fix_one(&r, txn, m, w);
			if (rc == ROVE_OK && gone)
				rove_warn("the replica's record of 'base' was gone: set anew");
			continue;
		}
		/* The clock gone (a salvage lost it) while the replica holds
		 * stamps: past every one, as when it is damaged (a replica
		 * that never made or pulled one has none). Others gone are as
		 * never set. */
		if (mrc == MDB_NOTFOUND && strcmp(m->key, "hlc") == 0) {
			uint64_t newest = 0, wall = rove_hlc_from_ms(rove_wall_ms()).v;
			rc = stamps_newest(&r, txn, w, &newest);
			/* (behind this laptop's clock: the clock read as 0 is
			 * past them already) */
			if (rc == ROVE_OK && newest >= wall)
				rc = rove_db_put_u64(txn, r.meta, m->key, newest + 1);
			if (rc == ROVE_OK && newest >= wall)
				rove_warn("the replica's record of '%s' was gone: set anew", m->key);
			continue;
		}
		if (mrc == MDB_NOTFOUND)
			continue;
		rc = rove_db_err(mrc, "meta");
		if (rc != ROVE_OK || (meta_size_ok(m->key, v.mv_size) &&
				      (strcmp(m->key, "base") != 0 || rove_be64_get(v.mv_data) <= 1)))
			continue;
		rc = meta_fix_one(&r, txn, m, w);
		if (rc == ROVE_OK)
			rove_warn("the replica's record of '%s' was damaged: set anew", m->key);
	}
	if (rc == ROVE_OK && txn != NULL)
		rc = format_fix(&r, txn);
	if (txn != NULL)
		rc = rpl_commit_or_abort(txn, rc);
	rpl_work_free(w);
	mdb_env_close(r.env);
	return rc;
}

/* The tables a replica cannot do without (tables_anew makes the others). */
static int open_dbis_some(rove_replica *r, MDB_txn *txn)
{
	const rove_db_table t[] = {
		{"meta", &r->meta},
		{"base0", &r->bases[0]},
		{"base1", &r->bases[1]},
		{"outbox", &r->outbox},
	};

	return rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), 0);
}

/* Which of the two bases is the base: meta "base", 0 (or absent) or 1. */
static int bases_get(rove_replica *r, MDB_txn *txn)
{
	uint64_t i = 0;
	bool gone = false;
	int rc = base_gone(txn, r->meta, &gone);

	if (rc == ROVE_OK && gone)
		rc = rpl_meta_damaged("base");
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "base", &i);
	if (rc == ROVE_OK && i > 1)
		rc = rpl_meta_damaged("base");
	if (rc == ROVE_OK) {
		r->base = r->bases[i];
		r->aside = r->bases[1 - i];
	}
	if (rc == ROVE_OK && r->indexed)
		rc = rpl_index_flags(r, txn);
	return rc;
}

/* A write to a replica of format 3 or 4: its outbox's entries get their
 * sums, and its number becomes 5, in the same transaction, so that it
 * changes with the first write and not before (a new rove that only read
 * it leaves it to an older one; format 3's records are read as they are
 * until written again). r->outbox_sums holds for this transaction; the
 * next one reads the format again (this one may be aborted). */
static int format_raise(rove_replica *r, MDB_txn *txn)
{
	rpl_work *w = rpl_work_new();
	int rc = w != NULL ? rpl_outbox_add_sums(r, txn, w) : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "format", REPLICA_FORMAT);
	if (rc == ROVE_OK)
		r->outbox_sums = true;
	rpl_work_free(w);
	return rc;
}

/* Whether the main tree's pages (the list of tables) read whole: said
 * with the way out, ROVE_EPROTO, when not. */
static int main_tree_ok(rove_replica *r)
{
	static const char *const none[] = {NULL};
	pages_faults f = {0, 0};
	MDB_txn *txn;
	int rc = rove_db_err(mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_pages_check_tables(r->env, txn, 0 /* plain */, none, pages_fault, &f);
	mdb_txn_abort(txn);
	if (rc == ROVE_OK && f.trees + f.free_list > 0) {
		rove_error("the replica's list of tables is damaged: nothing was changed; 'rove sync --repair' makes "
			   "the file anew from what of it reads whole");
		rc = ROVE_EPROTO;
	}
	return rc;
}

int rove_replica_writes_ok(rove_replica *r)
{
	int rc = rove_replica_writable(r);

	if (rc == ROVE_OK && !r->free_list_ok) {
		/* A free list damaged on the disk: said, not a crash of this
		 * write (attack sixty-nine: every write died of SIGSEGV until
		 * the repair). Once a process: a few reads. */
		char why[128];
		rc = rove_db_free_list_ok(r->env, why, sizeof(why));
		if (rc == ROVE_EPROTO)
			rove_error("the replica's free list is damaged (%s): nothing was changed; 'rove sync --repair' "
				   "makes it anew, keeping your pending changes",
				   why);
		else if (rc != ROVE_OK)
			rove_error("cannot read the replica's free list: %s", rove_strerror(rc));
		/* The main tree too (a page or two): every commit writes its
		 * table records, and LMDB wrote through a damaged one into the
		 * heap when a search built an index (damage_hunt seed 23926
		 * under ASan). */
		if (rc == ROVE_OK)
			rc = main_tree_ok(r);
		r->free_list_ok = rc == ROVE_OK;
		if (rc != ROVE_OK)
			return rc == ROVE_EPROTO ? ROVE_EREADONLY : rc; /* reported, as a replica not to write */
	}
	return rc;
}

/* Begins a transaction (flags: 0 or MDB_RDONLY) and learns which base is
 * the base in it: every transaction on the replica begins here. */
int rpl_txn_begin(rove_replica *r, unsigned flags, MDB_txn **txn)
{
	int rc = (flags & MDB_RDONLY) != 0 ? ROVE_OK : rove_replica_writes_ok(r);

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(r->env, NULL, flags, txn), "begin");
	r->txn_gen++; /* (what a transaction before read is not this one's) */
	if (rc == ROVE_OK) {
		rc = bases_get(r, *txn);
		if (rc == ROVE_OK && !r->sums_known)
			rc = sums_learn(r, *txn);
		if (rc == ROVE_OK && (flags & MDB_RDONLY) == 0 && !r->outbox_sums)
			rc = format_raise(r, *txn);
		if (rc != ROVE_OK) {
			mdb_txn_abort(*txn);
			*txn = NULL;
		}
	}
	return rc;
}

int rove_replica_writable(const rove_replica *r)
{
	if (r->bad_self != NULL) {
		rove_error("the replica is damaged (its '%s' does not read): nothing was changed; set up a new replica "
			   "in another directory with 'rove init', and make the changes 'rove pending' lists again "
			   "there",
			   r->bad_self);
		return ROVE_EREADONLY;
	}
	if (r->access == ROVE_DB_WRITABLE)
		return ROVE_OK;
	rove_error("the replica in '%s' is read-only: %s; nothing was changed", r->dir,
		   r->access == ROVE_DB_READ_ROFS ? "it is on a read-only file system"
						 : "this user may read its files but not write them");
	return ROVE_EREADONLY;
}

int rove_replica_create(const char *dir, const char *server, const char *user, const char *token,
			const char *tls_ca)
{
	char path[4096];
	struct stat sb;
	rove_replica r;
	rove_db_made made;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == 0)
		return ROVE_EEXIST;
	/* A new replica has never synced, whatever an old one left here. */
	rc = replica_path(dir, LAST_SYNC_FILE, path);
	if (rc != ROVE_OK)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR) {
		rove_error("cannot remove '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	memset(&r, 0, sizeof(r));
	rc = rove_db_create(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &r.env, &made);
	if (rc != ROVE_OK)
		return rc;
	rove_uuid_new(&r.id);
	rc = rove_db_err(mdb_txn_begin(r.env, NULL, 0, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(&r, txn, MDB_CREATE);
	if (rc == ROVE_OK)
		rc = rpl_index_create(&r, txn);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r.meta, "format", REPLICA_FORMAT);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "server", server);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "user", user);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "token", token);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "role", "unknown");
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "tls_ca", tls_ca != NULL ? tls_ca : "");
	if (rc == ROVE_OK) {
		k.mv_size = 2;
		k.mv_data = "id";
		v.mv_size = 16;
		v.mv_data = r.id.b;
		rc = rove_db_err(mdb_put(txn, r.meta, &k, &v, 0), "meta");
	}
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(r.env);
	if (rc != ROVE_OK) /* no half-made replica in the way of the next try */
		rove_db_unmake(dir, &made);
	return rc;
}

static int meta_str(MDB_txn *txn, MDB_dbi dbi, const char *key, char *out, size_t max)
{
	const char *s;
	size_t len;
	int rc = rove_db_get_str(txn, dbi, key, &s, &len);

	if (rc != ROVE_OK)
		return rc;
	if (len > max || memchr(s, '\0', len) != NULL)
		return ROVE_EPROTO;
	memcpy(out, s, len);
	out[len] = '\0';
	return ROVE_OK;
}

typedef struct anew_ctx {
	rove_replica *r;
	MDB_txn *txn;
	rpl_work *w;
} anew_ctx;

/* One op of the outbox: its pending index entry, merged into the view
 * (the walk reads the outbox; the writes go to other tables). */
static int pending_anew_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	anew_ctx *x = arg;
	uint8_t pkey[RPL_PENDING_KEY];
	MDB_val pk = {RPL_PENDING_KEY, pkey}, pv = {0, ""};
	uint64_t acked;
	int rc;

	if (rpl_outbox_decode(x->r, k, v, &acked, &x->w->op) != ROVE_OK)
		return ROVE_OK; /* (the next sync drops it, saying so) */
	rpl_pending_key(pkey, x->w->op.coll, &x->w->op.rid, rove_be64_get(k->mv_data));
	rc = rove_db_err(mdb_put(x->txn, x->r->pending, &pk, &pv, 0), "pending");
	if (rc == ROVE_OK)
		rc = rpl_view_merge_pending(x->r, x->txn, x->w->op.coll, &x->w->op.rid, &x->w->op.fs, x->w);
	return rc;
}

/* The pending index and the view of the ops in the outbox, in txn (the
 * view's index is made anew with the rest: meta "index" 0). */
static int pending_anew(rove_replica *r, MDB_txn *txn, rpl_work *w)
{
	anew_ctx x = {r, txn, w};
	int rc = rove_db_each(txn, r->outbox, "outbox", pending_anew_one, &x);

	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "index", 0);
	return rc;
}

/* The tables tables_anew makes when gone, in this order. */
#define MADE_TABLES 4
static const char *const made_tables[MADE_TABLES] = {"view", "pending", "journal", "rejected"};

/* Whether the tables a replica cannot do without are there and one of
 * made_tables is not (gone[i]: which). Read only; false if it cannot
 * tell (the open then says what it meets). */
static bool tables_gone(rove_replica *r, bool gone[MADE_TABLES])
{
	MDB_txn *txn;
	MDB_dbi dbi;
	bool any = false;

	if (mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	if (open_dbis_some(r, txn) == ROVE_OK)
		for (int i = 0; i < MADE_TABLES; i++) {
			gone[i] = mdb_dbi_open(txn, made_tables[i], 0, &dbi) == MDB_NOTFOUND;
			any = any || gone[i];
		}
	mdb_txn_abort(txn);
	return any;
}

/* Tables made from others or kept for the user's sake, gone (damage: a
 * replica then said "set up a new replica", losing its pending changes,
 * attack sixty-five): made anew, each said. The view and the pending
 * index from the outbox; the journal empty, counted as forgotten (a
 * recovery after a restore compares records); the refusals empty. The
 * tables that hold what nothing else does (meta, the bases, the outbox)
 * are not: their loss is the open's to say. */
static int tables_anew(rove_replica *r)
{
	MDB_dbi *dbis[MADE_TABLES] = {&r->view, &r->pending, &r->journal, &r->rejected};
	bool gone[MADE_TABLES] = {false, false, false, false};
	MDB_txn *txn;
	rpl_work *w = NULL;
	int rc;

	/* (the others must be there: else the open says what is missing) */
	if (!tables_gone(r, gone))
		return ROVE_OK;
	rc = rove_db_err(mdb_txn_begin(r->env, NULL, 0, &txn), "begin");
	if (rc != ROVE_OK)
		return rc;
	rc = open_dbis_some(r, txn);
	for (int i = 0; rc == ROVE_OK && i < MADE_TABLES; i++)
		rc = rove_db_err(mdb_dbi_open(txn, made_tables[i], MDB_CREATE, dbis[i]), made_tables[i]);
	if (rc == ROVE_OK)
		rc = bases_get(r, txn);
	if (rc == ROVE_OK)
		rc = sums_learn(r, txn);
	/* (the report sums' hooks find r there; not open yet, they are
	 * marked not kept, and made anew) */
	mdb_env_set_userctx(r->env, r);
	if (rc == ROVE_OK && (gone[0] || gone[1])) {
		w = rpl_work_new();
		rc = w == NULL ? ROVE_ENOMEM : rove_db_err(mdb_drop(txn, r->view, 0), "view");
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_drop(txn, r->pending, 0), "pending");
		if (rc == ROVE_OK)
			rc = pending_anew(r, txn, w);
	}
	/* the journal empty: everything in it counts as forgotten */
	if (rc == ROVE_OK && gone[2]) {
		uint64_t floor = 0;
		if (w == NULL && (w = rpl_work_new()) == NULL)
			rc = ROVE_ENOMEM;
		if (rc == ROVE_OK)
			rc = rpl_clock_past_all(r, txn, w, &floor);
		if (rc == ROVE_OK)
			rc = rove_db_put_u64(txn, r->meta, "journal_floor", floor);
	}
	rc = rpl_commit_or_abort(txn, rc);
	rpl_work_free(w);
	for (int i = 0; rc == ROVE_OK && i < MADE_TABLES; i++)
		if (gone[i])
			rove_warn("the replica's table '%s' was gone (damaged): made anew%s", made_tables[i],
				  i < 2 ? " from the pending changes" : i == 2 ? " (a recovery compares records)"
									 : "; the refusals it kept are lost");
	return rc;
}

/* A setting of 'rove config' (server, token, tls_ca): one that is missing
 * or does not read is empty, noted in r->bad_setting (the server is not
 * called until it is set anew), so that 'rove config' and every local
 * read still open the replica. */
static int setting_get(rove_replica *r, MDB_txn *txn, const char *key, char *out, size_t max)
{
	char why[ROVE_MAX_ERRMSG];
	int rc = meta_str(txn, r->meta, key, out, max);

	if (rc == ROVE_OK && !meta_size_ok(key, strlen(out)))
		rc = ROVE_EPROTO;
	/* (a server's URL that is none: damage, as 'rove config' and 'rove
	 * init' take no other) */
	if (rc == ROVE_OK && strcmp(key, "server") == 0 && !rove_net_url_valid(out, why, sizeof(why)))
		rc = ROVE_EPROTO;
	/* No CA kept (a repair's salvage lost its entry): none, as for a
	 * replica made without one; a tls:// server then asks for it. */
	if (rc == ROVE_ENOTFOUND && strcmp(key, "tls_ca") == 0) {
		out[0] = '\0';
		rc = ROVE_OK;
	}
	if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND) {
		const struct meta_key *m = meta_key_of(key);
		out[0] = '\0';
		if (r->bad_setting == NULL && m != NULL)
			r->bad_setting = m->setting;
		rc = ROVE_OK;
	}
	return rc;
}

int rove_replica_settings_ok(const rove_replica *r)
{
	if (r->bad_setting == NULL)
		return ROVE_OK;
	say_bad_setting(r->bad_setting);
	return ROVE_EPROTO;
}

int rove_replica_open(const char *dir, rove_replica *r)
{
	char path[4096];
	struct stat sb;
	MDB_txn *txn = NULL;
	MDB_val k = {2, "id"}, v;
	uint64_t format = 0;
	const char *missing = NULL; /* the key read when ROVE_ENOTFOUND */
	bool gone[MADE_TABLES];
	int rc;

	memset(r, 0, sizeof(*r));
	if (strlen(dir) > ROVE_REPLICA_DIR_MAX) {
		rove_error("replica path too long: '%.64s...'", dir);
		return ROVE_EINVAL;
	}
	memcpy(r->dir, dir, strlen(dir) + 1);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0) {
		int err = errno;
		if (err == ENOTDIR && stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			/* not "no replica": rove init would fail on it too */
			rove_error("'%s' is a file, not a replica's directory", dir);
			return ROVE_EINVAL;
		}
		if (err == ENOENT || err == ENOTDIR)
			return ROVE_ENOTFOUND;
		/* There, perhaps, but not for this user: not "no replica". */
		rove_error("cannot read '%s': %s", path, strerror(err));
		return rove_err_errno(err);
	}
	rc = rove_db_open_any(dir, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &r->env, &r->access);
	if (rc != ROVE_OK)
		return rc;
	/* (tables made from others, gone: made anew first) */
	rc = r->access == ROVE_DB_WRITABLE ? tables_anew(r) : ROVE_OK;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		r->read_txnid = mdb_txn_id(txn);
	if (rc == ROVE_OK)
		rc = open_dbis(r, txn, 0);
	if (rc == ROVE_OK) {
		rc = rove_db_get_u64(txn, r->meta, missing = "format", &format);
		/* (a number no version of rove will reach: damage) */
		/* (a storage error: meta's pages do not read) */
		if (rc == ROVE_EPROTO || rc == ROVE_EDB || (rc == ROVE_OK && format > REPLICA_FORMAT_DAMAGED))
			rc = rpl_meta_damaged("format");
	}
	if (rc == ROVE_OK && (format < REPLICA_FORMAT_OLDEST || format > REPLICA_FORMAT))
		rc = ROVE_EVERSION;
	if (rc == ROVE_OK)
		rc = sums_learn(r, txn);
	if (rc == ROVE_OK)
		rc = bases_get(r, txn);
	if (rc == ROVE_OK)
		rc = setting_get(r, txn, "server", r->server, ROVE_MAX_URL);
	if (rc == ROVE_OK) {
		rc = meta_str(txn, r->meta, "user", r->auth.user, ROVE_MAX_NAME);
		if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND ||
		    (rc == ROVE_OK && !rove_login_valid(r->auth.user, strlen(r->auth.user)))) {
			r->auth.user[0] = '\0';
			r->bad_self = "user";
			rc = ROVE_OK;
		}
	}
	if (rc == ROVE_OK)
		rc = setting_get(r, txn, "token", r->auth.token, ROVE_TOKEN_HEX);
	/* (the next pull says it) */
	if (rc == ROVE_OK && meta_str(txn, r->meta, "role", r->role, ROVE_MAX_NAME) != ROVE_OK)
		snprintf(r->role, sizeof(r->role), "unknown");
	if (rc == ROVE_OK)
		rc = setting_get(r, txn, "tls_ca", r->tls_ca, ROVE_MAX_URL);
	if (rc == ROVE_OK) {
		rc = rove_db_err(mdb_get(txn, r->meta, &k, &v), "meta id");
		if (rc == ROVE_OK && v.mv_size == 16)
			memcpy(r->id.b, v.mv_data, 16);
		else if (rc == ROVE_OK || rc == ROVE_ENOTFOUND)
			r->bad_self = r->bad_self != NULL ? r->bad_self : "id";
		if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	/* What makes the replica itself damaged: read only, so that what it
	 * holds (the pending changes among it) can still be read and made
	 * again in a new replica (attack sixty-five: every command failed,
	 * 'rove pending' too). The indexes and sums are then read by
	 * scanning, as for any replica read only. */
	if (rc == ROVE_OK && r->bad_self != NULL) {
		rove_warn("the replica is damaged (its '%s' does not read): it is read only; set up a new replica in "
			  "another directory with 'rove init', and make the changes 'rove pending' lists again there",
			  r->bad_self);
		r->access = ROVE_DB_READ_LOCKED;
	}
	/* Commit, not abort: dbi handles opened in an aborted txn are closed. */
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	/* Its file is there: a table or key missing is damage, not "no
	 * replica" (rove init then refused the directory as holding one,
	 * attack sixty-two: a loop with no way out). */
	/* (read only: a table a writer makes anew is not made here) */
	if (rc == ROVE_ENOTFOUND && missing == NULL && r->access != ROVE_DB_WRITABLE && tables_gone(r, gone)) {
		rove_error("'%s' is damaged: a table of it made from the others is gone; a rove command by a user who "
			   "may write it makes it anew (this one may only read it)",
			   dir);
		rc = ROVE_EPROTO;
	}
	if (rc == ROVE_ENOTFOUND) {
		/* (the repair first: a damaged main tree's keys out of order
		 * hide tables its salvage finds; attack eighty-five) */
		rove_error("'%s' is damaged: it lacks %s%s%s; 'rove sync --repair' makes it anew from what of it "
			   "reads whole, keeping the pending changes it can read; if it cannot, set up a new replica in "
			   "another directory with 'rove init', and sync",
			   dir, missing != NULL ? "its '" : "tables or keys every replica has",
			   missing != NULL ? missing : "", missing != NULL ? "' (every replica has one)" : "");
		rc = ROVE_EPROTO;
	}
	/* The indexes: opened, or built once for an older replica. */
	if (rc == ROVE_OK)
		rc = rpl_index_open(r);
	if (rc != ROVE_OK) {
		mdb_env_close(r->env);
		r->env = NULL;
		return rc;
	}
	r->node = rove_uuid_node(&r->id);
	rc = rove_report_sums_attach(r);
	if (rc != ROVE_OK) {
		mdb_env_close(r->env);
		r->env = NULL;
	}
	return rc;
}

int rove_replica_set(rove_replica *r, int which, const char *value)
{
	static const struct {
		int which;
		const char *key;
		size_t max;
	} settings[] = {
		{ROVE_SET_SERVER, "server", ROVE_MAX_URL},
		{ROVE_SET_TOKEN, "token", ROVE_TOKEN_HEX},
		{ROVE_SET_CA, "tls_ca", ROVE_MAX_URL},
	};
	MDB_txn *txn;
	size_t k;
	int rc;

	for (k = 0; k < sizeof(settings) / sizeof(settings[0]) && settings[k].which != which; k++)
		;
	if (k == sizeof(settings) / sizeof(settings[0]) || strlen(value) > settings[k].max)
		return ROVE_EINVAL;
	rc = rove_replica_writable(r);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(r->env, NULL, 0, &txn), "begin");
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_put_str(txn, r->meta, settings[k].key, value);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != ROVE_OK)
		return rc;
	if (which == ROVE_SET_SERVER)
		snprintf(r->server, sizeof(r->server), "%s", value);
	else if (which == ROVE_SET_TOKEN)
		snprintf(r->auth.token, sizeof(r->auth.token), "%s", value);
	else
		snprintf(r->tls_ca, sizeof(r->tls_ca), "%s", value);
	return ROVE_OK;
}

void rove_replica_close(rove_replica *r)
{
	if (r->env == NULL)
		return;
	if ((r->access == ROVE_DB_READ_ROFS || r->access == ROVE_DB_READ_UNLOCKED) && r->read_txnid != 0 &&
	    rove_db_changed_since(r->env, r->read_txnid))
		rove_warn("the replica in '%s' changed while this command read it (a read-only replica is read "
			  "without LMDB's lock): what it showed may mix two states; run it again",
			  r->dir);
	mdb_env_close(r->env);
	r->env = NULL;
}

/* ---- records ---- */

unsigned long rove_replica_damage_said(void)
{
	return damage_said;
}

void rpl_say_damaged(const char *what)
{
	damage_said++;
	rove_error("the replica is damaged (%s): 'rove sync --repair' takes the server's records anew, keeping "
		   "your pending changes",
		   what);
}

void rpl_say_damaged_key(const char *key)
{
	char what[64];

	snprintf(what, sizeof(what), "its record of '%s' does not read", key);
	rpl_say_damaged(what);
}

void rpl_say_corrupt(void)
{
	rpl_say_damaged("a record it holds does not decode");
}

/* rpl_rec_get without a word: ROVE_EPROTO for a record that does not
 * decode (or is not the one its key names). */
static int rec_get(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key}, v;
	int rc;

	rove_record_key(key, coll, id);
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc != 0)
		return rove_db_err(rc, "record");
	rc = rove_dec_record(v.mv_data, v.mv_size, rec);
	if (rc != ROVE_OK || rec->coll != coll || rove_uuid_cmp(&rec->id, id) != 0)
		return ROVE_EPROTO;
	return ROVE_OK;
}

int rpl_rec_get(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = rec_get(txn, dbi, coll, id, rec);

	if (rc == ROVE_EPROTO)
		rpl_say_corrupt();
	return rc;
}

/* A damaged record met by a recovery: absent, counted; else said. */
static int damaged(rove_replica *r)
{
	if (r->damage_as_absent) {
		r->damage_skipped++;
		return ROVE_ENOTFOUND;
	}
	rpl_say_corrupt();
	return ROVE_EPROTO;
}

int rpl_rec_read(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = rec_get(txn, dbi, coll, id, rec);

	return rc == ROVE_EPROTO ? damaged(r) : rc;
}

int rpl_rec_decode(rove_replica *r, const MDB_val *v, rove_record *rec)
{
	return rove_dec_record(v->mv_data, v->mv_size, rec) == ROVE_OK ? ROVE_OK : damaged(r);
}

/* Gets a record or an empty one for coll/id. */
int rpl_rec_get_or_empty(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = rpl_rec_get(txn, dbi, coll, id, rec);

	if (rc == ROVE_ENOTFOUND) {
		rec->coll = coll;
		rec->id = *id;
		rove_fields_init(&rec->fs);
		return ROVE_OK;
	}
	return rc;
}

/* The index entries of the record coll/id stored at dbi (none if absent),
 * read into tmp. */
int rpl_rec_was(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *tmp, rpl_ikeys *was)
{
	int rc = rpl_rec_get(txn, dbi, coll, id, tmp);

	was->n = 0;
	if (rc == ROVE_OK)
		rpl_ikeys_of(coll, id, &tmp->fs, was);
	return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
}

int rpl_rec_put(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, const rove_record *rec, const rpl_ikeys *was,
		rove_buf *scratch)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key}, v;
	rpl_ikeys now;
	int rc;

	rove_record_key(key, rec->coll, &rec->id);
	rc = rove_report_sums_put(txn, dbi, rec);
	if (rc != ROVE_OK)
		return rc;
	rove_buf_reset(scratch);
	rc = rove_enc_record(scratch, rec);
	if (rc != ROVE_OK)
		return rc;
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	rc = rove_db_err(mdb_put(txn, dbi, &k, &v, 0), "record");
	if (rc == ROVE_OK && rpl_index_kept(r, dbi)) {
		rpl_ikeys_of(rec->coll, &rec->id, &rec->fs, &now);
		rc = rpl_index_move(r, txn, dbi, was, &now);
	}
	return rc;
}

int rpl_rec_del(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id,
		const rpl_ikeys *was)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key};
	rpl_ikeys none = {0};
	int rc;

	rove_record_key(key, coll, id);
	rc = rove_report_sums_del(txn, dbi, coll, id);
	if (rc != ROVE_OK)
		return rc;
	rc = mdb_del(txn, dbi, &k, NULL);
	rc = rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "record");
	if (rc == ROVE_OK)
		rc = rpl_index_move(r, txn, dbi, was, &none);
	return rc;
}

/* Merges fields fs into the record coll/id stored at dbi (creating it). */
int rpl_rec_merge(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id,
		  const rove_fields *fs, rove_record *tmp, rove_buf *scratch)
{
	bool changed = false;
	rpl_ikeys was = {0};
	int rc = rpl_rec_get(txn, dbi, coll, id, tmp);

	if (rc == ROVE_OK) {
		if (rpl_index_kept(r, dbi))
			rpl_ikeys_of(coll, id, &tmp->fs, &was);
	} else if (rc == ROVE_ENOTFOUND) {
		tmp->coll = coll;
		tmp->id = *id;
		rove_fields_init(&tmp->fs);
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = rove_merge(&tmp->fs, fs, &changed);
	if (rc == ROVE_OK && (changed || tmp->fs.n == 0))
		rc = rpl_rec_put(r, txn, dbi, tmp, &was, scratch);
	return rc;
}

/* ---- meta ---- */

/* A u64 of meta, 0 when absent. */
int rpl_meta_u64(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *out)
{
	int rc = rove_db_get_u64(txn, meta, key, out);

	if (rc == ROVE_ENOTFOUND) {
		*out = 0;
		rc = ROVE_OK;
	}
	return rc == ROVE_EPROTO ? rpl_meta_damaged(key) : rc;
}

/* Bytes of meta (at most max; absent: none, *len 0). */
int rpl_meta_bytes(MDB_txn *txn, MDB_dbi meta, const char *key, void *out, uint32_t max, uint32_t *len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int mrc = mdb_get(txn, meta, &k, &v);

	*len = 0;
	if (mrc == MDB_NOTFOUND)
		return ROVE_OK;
	if (mrc != 0)
		return rove_db_err(mrc, "meta");
	if (v.mv_size > max)
		return rpl_meta_damaged(key);
	memcpy(out, v.mv_data, v.mv_size);
	*len = (uint32_t)v.mv_size;
	return ROVE_OK;
}

/* Sets bytes of meta, or removes the key for none. */
int rpl_meta_prefix_count(MDB_txn *txn, MDB_dbi meta, const char *prefix, size_t keylen, uint64_t *n)
{
	size_t plen = strlen(prefix);
	MDB_cursor *c;
	MDB_val k = {plen, (void *)prefix}, v;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, meta, &c), "cursor");

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != keylen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		(*n)++;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "meta");
	mdb_cursor_close(c);
	return rc;
}

int rpl_meta_bytes_put(MDB_txn *txn, MDB_dbi meta, const char *key, const void *data, uint32_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)data};
	int rc;

	if (len > 0)
		return rove_db_err(mdb_put(txn, meta, &k, &v, 0), "meta");
	rc = mdb_del(txn, meta, &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "meta");
}

int rpl_meta_uuid(MDB_txn *txn, MDB_dbi meta, const char *key, rove_uuid *id)
{
	uint32_t len;
	int rc = rpl_meta_bytes(txn, meta, key, id->b, sizeof(id->b), &len);

	if (rc == ROVE_OK && len != 0 && len != sizeof(id->b))
		rc = rpl_meta_damaged(key);
	if (rc == ROVE_OK && len == 0)
		memset(id->b, 0, sizeof(id->b));
	return rc;
}

int rpl_commit_or_abort(MDB_txn *txn, int rc)
{
	if (rc == ROVE_OK)
		return rove_db_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- what the user reads ---- */

int rove_replica_get(rove_replica *r, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	MDB_txn *txn;
	bool pending, hidden = false;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rpl_visible_get(r, txn, coll, id, rec, &pending);
	if (rc == ROVE_OK && !rove_record_deleted(rec)) {
		rpl_hidden h;
		rc = rpl_hidden_begin(r, txn, coll, &h);
		if (rc == ROVE_OK)
			rc = rpl_hidden_test(&h, rec, &hidden);
	}
	mdb_txn_abort(txn);
	if (rc == ROVE_OK && (rove_record_deleted(rec) || hidden))
		rc = ROVE_ENOTFOUND;
	return rc;
}

int rove_replica_why_gone(rove_replica *r, uint8_t coll, const rove_uuid *id, enum rove_gone *why)
{
	rove_record *rec = malloc(sizeof(*rec));
	MDB_txn *txn = NULL;
	bool pending = false, hidden = false;
	int rc = rec != NULL ? rpl_txn_begin(r, MDB_RDONLY, &txn) : ROVE_ENOMEM;

	*why = ROVE_GONE_ABSENT;
	if (rc == ROVE_OK)
		rc = rpl_visible_get(r, txn, coll, id, rec, &pending);
	if (rc == ROVE_OK && rove_record_deleted(rec)) {
		*why = pending ? ROVE_GONE_DELETED_HERE : ROVE_GONE_DELETED;
	} else if (rc == ROVE_OK) {
		rpl_hidden h;
		rc = rpl_hidden_begin(r, txn, coll, &h);
		if (rc == ROVE_OK)
			rc = rpl_hidden_test(&h, rec, &hidden);
		if (rc == ROVE_OK && hidden)
			*why = ROVE_GONE_CUSTOMER_DELETED_HERE;
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(rec);
	return rc;
}

/* One side of the merged walk over base and view. */
typedef struct side {
	MDB_cursor *c;
	MDB_val k, v;
	bool live; /* positioned on a record of the collection */
	uint8_t prev[ROVE_RECORD_KEY]; /* the key it was on (live) */
} side;

/* Whether key a (of an) sorts after b (of bn), as LMDB orders keys. */
static bool key_after(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c > 0 || (c == 0 && an > bn);
}

/* Steps sd's cursor (op) and says whether it is on a record of coll.
 * Keys that do not rise, or a run of coll's records ended by a key the
 * next one sorts before, are a damaged page's (a key's bit flipped):
 * LMDB reads on, and a list ended there, half the records unshown
 * without a word (attack eighty-five). Said, ROVE_EPROTO. */
static int side_step(side *sd, uint8_t coll, MDB_cursor_op op)
{
	bool was = op == MDB_NEXT && sd->live;
	int mrc = mdb_cursor_get(sd->c, &sd->k, &sd->v, op);

	sd->live = mrc == 0 && sd->k.mv_size == ROVE_RECORD_KEY && ((uint8_t *)sd->k.mv_data)[0] == coll;
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	if (was && mrc == 0 && !key_after(sd->k.mv_data, sd->k.mv_size, sd->prev, ROVE_RECORD_KEY)) {
		rpl_say_damaged("its records' keys are out of order");
		return ROVE_EPROTO;
	}
	if (was && mrc == 0 && !sd->live) {
		/* the run's end: the key after it must sort after it too */
		MDB_val end = sd->k, k2, v2;
		int m2 = mdb_cursor_get(sd->c, &k2, &v2, MDB_NEXT);
		if (m2 == 0 && !key_after(k2.mv_data, k2.mv_size, end.mv_data, end.mv_size)) {
			rpl_say_damaged("its records' keys are out of order");
			return ROVE_EPROTO;
		}
		if (m2 != 0 && m2 != MDB_NOTFOUND)
			return rove_db_err(m2, "cursor");
	}
	if (sd->live)
		memcpy(sd->prev, sd->k.mv_data, ROVE_RECORD_KEY);
	return ROVE_OK;
}

typedef struct unmarked {
	rove_record_fn fn;
	void *arg;
} unmarked;

static int call_unmarked(const rove_record *rec, bool pending, void *arg)
{
	const unmarked *u = arg;

	(void)pending;
	return u->fn(rec, u->arg);
}

int rove_replica_each(rove_replica *r, uint8_t coll, rove_record_fn fn, void *arg)
{
	unmarked u = {fn, arg};

	return rove_replica_each_marked(r, coll, call_unmarked, &u);
}

int rove_replica_each_marked(rove_replica *r, uint8_t coll, rove_record_pending_fn fn, void *arg)
{
	MDB_txn *txn;
	side base = {NULL, {0, NULL}, {0, NULL}, false, {0}}, view = base;
	rpl_hidden h = {0};
	rove_record *rec = malloc(sizeof(*rec));
	int rc;

	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	rc = rpl_hidden_begin(r, txn, coll, &h);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->base, &base.c), "cursor");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->view, &view.c), "cursor");
	base.k.mv_size = view.k.mv_size = 1;
	base.k.mv_data = view.k.mv_data = &coll;
	if (rc == ROVE_OK)
		rc = side_step(&base, coll, MDB_SET_RANGE);
	if (rc == ROVE_OK)
		rc = side_step(&view, coll, MDB_SET_RANGE);
	/* Both in key order: the view's entry wins where both have one. */
	while (rc == ROVE_OK && (base.live || view.live)) {
		int cmp = !base.live ? 1 : !view.live ? -1 : memcmp(base.k.mv_data, view.k.mv_data, ROVE_RECORD_KEY);
		const MDB_val *v = cmp < 0 ? &base.v : &view.v;

		if (rove_dec_record(v->mv_data, v->mv_size, rec) != ROVE_OK) {
			rpl_say_corrupt();
			rc = ROVE_EPROTO;
			break;
		}
		/* A view entry exists exactly while ops on the record are
		 * pending. */
		if (!rove_record_deleted(rec)) {
			bool hidden;
			rc = rpl_hidden_test(&h, rec, &hidden);
			if (rc == ROVE_OK && !hidden)
				rc = fn(rec, cmp >= 0, arg);
		}
		if (rc == ROVE_OK && cmp <= 0)
			rc = side_step(&base, coll, MDB_NEXT);
		if (rc == ROVE_OK && cmp >= 0)
			rc = side_step(&view, coll, MDB_NEXT);
	}
	if (base.c != NULL)
		mdb_cursor_close(base.c);
	if (view.c != NULL)
		mdb_cursor_close(view.c);
	mdb_txn_abort(txn);
	free(rec);
	return rc;
}

/* ---- last sync ----
 * The time of the last finished sync is shown by `rove status` and used
 * for nothing else, so it is kept outside LMDB, where writing it costs no
 * transaction: the file last_sync in the replica's directory holds the
 * time in ms as decimal digits. It is rewritten in place, without a
 * flush: after a power failure or a torn write it may be older, empty,
 * garbled or missing, and then reads as an older sync or none. */

/* The time in the last_sync file; 0 (never) when the file is missing or
 * holds anything but 1 to 20 digits, no leading zero, a time from 1 ms
 * to ROVE_MAX_WALL_MS. */
static uint64_t last_sync_read(rove_replica *r)
{
	char path[REPLICA_PATH_MAX], text[LAST_SYNC_MAX_CHARS + 1];
	const char *dir;
	size_t len = 0;
	uint64_t v = 0;
	ssize_t n = 0;
	int fd;

	if (mdb_env_get_path(r->env, &dir) != 0 || replica_path(dir, LAST_SYNC_FILE, path) != ROVE_OK)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* not a FIFO's writer, waited for */
	if (fd < 0) {
		if (errno != ENOENT)
			rove_warn("cannot read '%s': %s", path, strerror(errno));
		return 0;
	}
	/* One byte more than allowed: a longer file is refused, not cut. */
	while (len < sizeof(text)) {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rove_warn("cannot read '%s': %s", path, strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0 || len == 0 || len > LAST_SYNC_MAX_CHARS || text[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9' || v > (ROVE_MAX_WALL_MS - (uint64_t)(text[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	return v;
}

/* The meta keys of rove_replica_clock_learned's value: how far the
 * laptop's clock was ahead of the server's, or behind it (absent: 0, as
 * on a replica that never synced, or synced before they were kept; one
 * of them is 0). */
#define CLOCK_AHEAD_KEY "clock_ahead"
#define CLOCK_BEHIND_KEY "clock_behind"
/* Where the laptop's clocks stood when a lead was learned: this boot's
 * id (16), the time since boot (8, CLOCK_BOOTTIME, which goes on while
 * the laptop sleeps and is never set) and the wall clock (8), in ms.
 * Within the same boot, the server's time now is the one learned plus
 * the time since, whatever was done to the wall clock meanwhile (put
 * right by NTP or by hand after the sync: the lead learned is then no
 * longer the laptop's). */
#define CLOCK_ANCHOR_KEY "clock_anchor"
#define CLOCK_ANCHOR_LEN 32u

typedef struct clock_anchor {
	rove_uuid boot;
	uint64_t boot_ms, wall_ms;
} clock_anchor;

/* This boot's id and its time since boot; false when unknown (no /proc:
 * the lead is then applied to the wall clock as it is). */
static bool boot_clock(clock_anchor *a)
{
	char text[ROVE_UUID_STRLEN + 2];
	struct timespec ts;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	bool ok = f != NULL && fgets(text, sizeof(text), f) != NULL;

	if (f != NULL)
		fclose(f);
	if (ok)
		text[strcspn(text, "\n")] = '\0';
	if (!ok || rove_uuid_parse(text, &a->boot) != ROVE_OK || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return false;
	a->boot_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	a->wall_ms = rove_wall_ms();
	return true;
}

/* The anchor stored (ROVE_ENOTFOUND: none), checked before use. */
static int anchor_get(MDB_txn *txn, MDB_dbi meta, clock_anchor *a)
{
	MDB_val k = {sizeof(CLOCK_ANCHOR_KEY) - 1, (void *)CLOCK_ANCHOR_KEY}, v;
	int rc = mdb_get(txn, meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return ROVE_ENOTFOUND;
	if (rc != 0)
		return rove_db_err(rc, "meta");
	if (v.mv_size != CLOCK_ANCHOR_LEN)
		return ROVE_EPROTO;
	memcpy(a->boot.b, v.mv_data, 16);
	a->boot_ms = rove_be64_get((const uint8_t *)v.mv_data + 16);
	a->wall_ms = rove_be64_get((const uint8_t *)v.mv_data + 24);
	return ROVE_OK;
}

/* How the lead or lag the last sync learned (*ahead, *behind) applies
 * now: */
enum {
	LEAD_NONE,   /* none learned, or unreadable meta: the wall clock */
	LEAD_WALL,   /* a lead taken off the wall clock (no anchor, or no boot
		      * clock); a lag is not added to it */
	LEAD_ANCHOR, /* the server's time then (*at) plus the boot's time since (*now) */
	LEAD_HELD,   /* learned in another boot: not applied */
};

/* A lead is taken off the wall clock, or, within the boot that learned
 * it, the time since then added to the server's time then; a lag (a slow
 * clock) only so, within its boot: added to a wall clock put right since
 * it would date things in the server's future, which it refuses. Either
 * learned in another boot is not applied (the clock may have been put
 * right since: a visit then refused as in the future is seen and
 * retried, one dated back is not). */
static int lead_state(MDB_txn *txn, MDB_dbi meta, uint64_t *ahead, uint64_t *behind, clock_anchor *at,
		      clock_anchor *now)
{
	int rc;

	*ahead = *behind = 0;
	if (rove_db_get_u64(txn, meta, CLOCK_AHEAD_KEY, ahead) != ROVE_OK)
		*ahead = 0;
	if (*ahead != 0 || rove_db_get_u64(txn, meta, CLOCK_BEHIND_KEY, behind) != ROVE_OK)
		*behind = 0;
	if (*ahead == 0 && *behind == 0)
		return LEAD_NONE;
	rc = anchor_get(txn, meta, at);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && !boot_clock(now)))
		return LEAD_WALL;
	/* (a lag or an anchor past any clock is a damaged value's: the sum
	 * server_now makes of them could wrap) */
	if (rc != ROVE_OK || at->wall_ms < *ahead || *behind >= UINT64_MAX / 4 || at->wall_ms >= UINT64_MAX / 4)
		return LEAD_NONE;
	if (rove_uuid_cmp(&at->boot, &now->boot) != 0 || now->boot_ms < at->boot_ms)
		return LEAD_HELD;
	return LEAD_ANCHOR;
}

/* The server's time now by this laptop's clocks (wall: the wall clock
 * read once), from the lead or lag the last sync learned (lead_state). */
static uint64_t server_now(MDB_txn *txn, MDB_dbi meta, uint64_t wall)
{
	uint64_t ahead, behind;
	clock_anchor at, now;

	switch (lead_state(txn, meta, &ahead, &behind, &at, &now)) {
	case LEAD_WALL:
		return ahead < wall ? wall - ahead : wall;
	case LEAD_ANCHOR:
		return at.wall_ms - ahead + behind + (now.boot_ms - at.boot_ms);
	default:
		return wall;
	}
}

uint64_t rove_replica_clock_held(rove_replica *r)
{
	uint64_t ahead, behind;
	clock_anchor at, now;
	MDB_txn *txn;
	bool held;

	if (rpl_txn_begin(r, MDB_RDONLY, &txn) != ROVE_OK)
		return 0;
	held = lead_state(txn, r->meta, &ahead, &behind, &at, &now) == LEAD_HELD;
	mdb_txn_abort(txn);
	return held ? ahead : 0;
}

/* The time of the latest stamp pulled, Unix ms (0: none). */
static uint64_t pulled_ms(MDB_txn *txn, MDB_dbi meta)
{
	uint64_t hlc = 0;

	if (rove_db_get_u64(txn, meta, "pulled_hlc", &hlc) != ROVE_OK)
		hlc = 0;
	return rove_hlc_ms((rove_hlc){hlc});
}

uint64_t rpl_now_ms(rove_replica *r, MDB_txn *txn)
{
	uint64_t wall = rove_wall_ms(), pulled = pulled_ms(txn, r->meta);

	wall = server_now(txn, r->meta, wall);
	return pulled > wall ? pulled : wall;
}

uint64_t rove_replica_now_ms(rove_replica *r)
{
	uint64_t now;
	MDB_txn *txn;

	if (rpl_txn_begin(r, MDB_RDONLY, &txn) != ROVE_OK)
		return rove_wall_ms();
	now = rpl_now_ms(r, txn);
	mdb_txn_abort(txn);
	return now;
}

uint64_t rove_replica_pulled_ms(rove_replica *r)
{
	uint64_t ms;
	MDB_txn *txn;

	if (rpl_txn_begin(r, MDB_RDONLY, &txn) != ROVE_OK)
		return 0;
	ms = pulled_ms(txn, r->meta);
	mdb_txn_abort(txn);
	return ms;
}

/* Whether a and b differ by more than ROVE_CLOCK_AHEAD_SLACK_MS. */
static bool clock_moved(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) > ROVE_CLOCK_AHEAD_SLACK_MS;
}

static int clock_learned_once(rove_replica *r, int64_t lead_ms)
{
	/* (-(lead_ms + 1) + 1: INT64_MIN's magnitude too) */
	uint64_t ahead = lead_ms > 0 ? (uint64_t)lead_ms : 0, behind = lead_ms < 0 ? (uint64_t)-(lead_ms + 1) + 1 : 0;
	uint64_t was = 0, was_behind = 0;
	clock_anchor stored, now;
	bool anchored, have_boot = boot_clock(&now);
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	/* (a lag within the slack is half a round trip's noise, not a lag) */
	if (behind <= ROVE_CLOCK_AHEAD_SLACK_MS)
		behind = 0;
	rc = rove_db_get_u64(txn, r->meta, CLOCK_AHEAD_KEY, &was);
	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO) /* (damaged: learned anew) */
		rc = ROVE_OK;
	if (rc == ROVE_OK) {
		rc = rove_db_get_u64(txn, r->meta, CLOCK_BEHIND_KEY, &was_behind);
		if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
			rc = ROVE_OK;
	}
	anchored = rc == ROVE_OK && anchor_get(txn, r->meta, &stored) == ROVE_OK && have_boot &&
		   rove_uuid_cmp(&stored.boot, &now.boot) == 0;
	mdb_txn_abort(txn);
	if (rc != ROVE_OK)
		return rc;
	/* As good as known: no write (a sync with nothing new writes
	 * nothing). A lead or lag kept is anchored in the boot it is used
	 * in; none kept needs no anchor, and a lead within the slack of none
	 * is half a round trip's noise, not a lead. */
	if (!clock_moved(ahead, was) && !clock_moved(behind, was_behind) &&
	    ((ahead == 0 && behind == 0) || (was == 0 && was_behind == 0) || anchored || !have_boot))
		return ROVE_OK;
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_put_u64(txn, r->meta, CLOCK_AHEAD_KEY, ahead);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, CLOCK_BEHIND_KEY, behind);
	if (rc == ROVE_OK && have_boot && (ahead > 0 || behind > 0)) {
		uint8_t buf[CLOCK_ANCHOR_LEN];
		MDB_val k = {sizeof(CLOCK_ANCHOR_KEY) - 1, (void *)CLOCK_ANCHOR_KEY}, v = {sizeof(buf), buf};
		memcpy(buf, now.boot.b, 16);
		rove_be64_put(buf + 16, now.boot_ms);
		rove_be64_put(buf + 24, now.wall_ms);
		rc = rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
	} else if (rc == ROVE_OK) {
		MDB_val k = {sizeof(CLOCK_ANCHOR_KEY) - 1, (void *)CLOCK_ANCHOR_KEY};
		int mrc = mdb_del(txn, r->meta, &k, NULL);
		rc = mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
	}
	return rpl_commit_or_abort(txn, rc);
}

int rove_replica_clock_learned(rove_replica *r, int64_t lead_ms)
{
	int rc;

	RPL_WITH_GROWTH(r, clock_learned_once(r, lead_ms));
	return rc;
}

/* The entries of table dbi (name: what is said) in txn. */
static int table_entries(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *n)
{
	MDB_stat ms;
	int rc = rove_db_err(mdb_stat(txn, dbi, &ms), name);

	*n = rc == ROVE_OK ? ms.ms_entries : 0;
	return rc;
}

int rove_replica_pending_count(rove_replica *r, uint64_t *pending)
{
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	*pending = 0;
	if (rc != ROVE_OK)
		return rc;
	rc = table_entries(txn, r->outbox, "outbox", pending);
	mdb_txn_abort(txn);
	return rc;
}

int rove_replica_status_get(rove_replica *r, rove_replica_status *s)
{
	bool disorder = false; /* the outbox's keys out of their order */
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	memset(s, 0, sizeof(*s));
	rc = rpl_meta_u64(txn, r->meta, "cursor", &s->cursor);
	if (rc == ROVE_OK)
		rc = table_entries(txn, r->outbox, "outbox", &s->pending);
	if (rc == ROVE_OK && s->pending > 0)
		rc = rpl_outbox_sent(txn, r, s->pending, &s->sent);
	if (rc == ROVE_OK) {
		rove_op *op = malloc(sizeof(*op));
		rc = op != NULL ? rpl_outbox_damage(txn, r, op, &s->damaged, &s->damaged_sent, &s->gone, &disorder)
				: ROVE_ENOMEM;
		free(op);
	}
	/* (a change lost with its index entry on a record with another:
	 * attack ninety-four, status and the sync silent) */
	if (rc == ROVE_OK && s->gone == 0) {
		uint64_t n = 0;
		rc = rpl_outbox_unexplained(txn, r, s->pending, &n);
		s->gone += n;
	}
	/* (those that do not read are not counted pending: the next sync
	 * drops them, and 'rove pending' does not list them; attack
	 * eighty-nine: status counted 30 where pending listed 29) */
	s->pending -= s->damaged < s->pending ? s->damaged : s->pending;
	if (s->sent > s->pending)
		s->sent = s->pending;
	/* (whether the next sync drops them, or refuses until a repair:
	 * attack eighty-nine was told "the next sync drops it") */
	if (rc == ROVE_OK && (s->damaged + s->gone > 0 || disorder)) {
		pages_faults f = {0, 0};
		char why[128];
		rc = rove_db_pages_check_tables(r->env, txn, 0 /* plain */, sync_written, pages_fault_quiet, &f);
		s->pages_damaged = f.trees + f.free_list > 0;
		/* (a damaged free list too: every sync refuses; attack
		 * ninety-one was told "the next sync drops it") */
		if (rc == ROVE_OK && !s->pages_damaged) {
			int frc = rove_db_free_list_ok(r->env, why, sizeof(why));
			s->pages_damaged = frc != ROVE_OK && frc != ROVE_ENOMEM;
		}
	}
	if (rc == ROVE_OK) {
		MDB_val nk = {strlen(RPL_LOST_NOTE_KEY), RPL_LOST_NOTE_KEY}, nv;
		int mrc = mdb_get(txn, r->meta, &nk, &nv);
		s->lost_unsaid = mrc == 0;
		if (mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "meta");
	}
	/* (changes sent, to be confirmed by the next pull, which walks a
	 * small file whole first and refuses a damaged one: attack
	 * eighty-eight was told "the next sync confirms them" of changes
	 * every sync then left unconfirmed) */
	if (rc == ROVE_OK && s->sent > 0 && !s->pages_damaged && walked_by_pull(r)) {
		pages_faults f = {0, 0};
		uint64_t npages = 0;
		rc = rove_db_pages_check(r->env, txn, 0 /* plain */, pages_fault_quiet, &f, &npages);
		s->pages_damaged = f.trees + f.free_list > 0;
	}
	if (rc == ROVE_OK)
		rc = table_entries(txn, r->rejected, "rejected", &s->rejected);
	if (rc == ROVE_OK) {
		uint64_t gone = 0;
		rc = rpl_dismissed_count(txn, r, &gone);
		s->rejected -= gone < s->rejected ? gone : s->rejected;
	}
	if (rc == ROVE_OK)
		rc = rpl_orphans_count(txn, r, &s->orphans);
	if (rc == ROVE_OK) {
		/* The lead as it stands now (the wall clock may have been put
		 * right since it was learned). */
		uint64_t wall = rove_wall_ms(), server = server_now(txn, r->meta, wall);
		clock_anchor at, now;
		s->clock_ahead_ms = wall > server ? wall - server : 0;
		s->clock_behind_ms = server > wall ? server - wall : 0;
		if (lead_state(txn, r->meta, &s->clock_held_ms, &s->clock_held_behind_ms, &at, &now) != LEAD_HELD)
			s->clock_held_ms = s->clock_held_behind_ms = 0;
	}
	mdb_txn_abort(txn);
	if (rc == ROVE_OK)
		s->last_sync_ms = last_sync_read(r);
	return rc;
}

/* Writes all of p at offset 0 of fd; -1 with errno set on failure. */
static int pwrite_all(int fd, const char *p, size_t len)
{
	off_t off = 0;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO; /* no progress: give up with a reason */
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int rove_replica_synced(rove_replica *r, uint64_t wall_ms)
{
	char path[REPLICA_PATH_MAX], text[LAST_SYNC_MAX_CHARS + 1];
	const char *dir;
	int fd, len, err = 0, rc;

	if (wall_ms == 0 || wall_ms > ROVE_MAX_WALL_MS)
		return ROVE_EINVAL; /* it could not be read back */
	rc = rove_replica_writable(r);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_env_get_path(r->env, &dir), "env path");
	if (rc == ROVE_OK)
		rc = replica_path(dir, LAST_SYNC_FILE, path);
	if (rc != ROVE_OK)
		return rc;
	/* Rewritten in place: a rename over it would make ext4 start writing
	 * the file out at once (its replace-by-rename safeguard), which every
	 * no-op sync would pay for. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		rove_error("cannot write '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	len = snprintf(text, sizeof(text), "%" PRIu64, wall_ms);
	if (pwrite_all(fd, text, (size_t)len) != 0)
		err = errno;
	if (err == 0 && ftruncate(fd, len) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		rove_error("cannot write '%s': %s", path, strerror(err));
		return ROVE_EIO;
	}
	return ROVE_OK;
}
