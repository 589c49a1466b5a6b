#include "seen.h"
#include "rove_assert.h"

#include "err.h"
#include "hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An open-addressing table, at most 3/4 full, cleared whole when taken. */
#define SEEN_SLOTS (ROVE_MAX_SYNC_NOTES + ROVE_MAX_SYNC_NOTES / 3u + 1u)

struct rove_seen {
	pthread_mutex_t mu;
	size_t n;            /* slots in use */
	rove_seen_note *slot; /* SEEN_SLOTS; login[0] == '\0': free */
};

rove_seen *rove_seen_new(void)
{
	rove_seen *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->slot = calloc(SEEN_SLOTS, sizeof(*s->slot));
	if (s->slot == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void rove_seen_free(rove_seen *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->slot);
	free(s);
}

/* Notes login at ms; called with mu held. */
static bool note_locked(rove_seen *s, const char *login, size_t len, uint64_t ms)
{
	size_t i = (size_t)(rove_fnv1a(ROVE_FNV_BASIS, login, len) % SEEN_SLOTS);

	for (;; i = (i + 1) % SEEN_SLOTS) { /* ends: a free slot always remains */
		rove_seen_note *e = &s->slot[i];
		if (e->login[0] == '\0') {
			if (s->n >= ROVE_MAX_SYNC_NOTES)
				return false;
			memcpy(e->login, login, len);
			e->login[len] = '\0';
			e->ms = ms;
			s->n++;
			return true;
		}
		if (strcmp(e->login, login) == 0) {
			if (ms > e->ms)
				e->ms = ms;
			return true;
		}
	}
}

bool rove_seen_note_sync(rove_seen *s, const char *login, uint64_t ms)
{
	size_t len = strlen(login);
	bool kept;

	ROVE_ASSERT(len > 0 && len <= ROVE_MAX_NAME);
	pthread_mutex_lock(&s->mu);
	kept = note_locked(s, login, len, ms);
	pthread_mutex_unlock(&s->mu);
	return kept;
}

int rove_seen_take(rove_seen *s, rove_seen_note **out, size_t *n)
{
	rove_seen_note *v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	if (s->n > 0) {
		v = malloc(s->n * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&s->mu);
			return ROVE_ENOMEM;
		}
		for (size_t i = 0; i < SEEN_SLOTS; i++) {
			if (s->slot[i].login[0] == '\0')
				continue;
			v[k++] = s->slot[i];
			s->slot[i].login[0] = '\0';
		}
		ROVE_ASSERT(k == s->n);
		s->n = 0;
	}
	pthread_mutex_unlock(&s->mu);
	*out = v;
	*n = k;
	return ROVE_OK;
}

void rove_seen_give_back(rove_seen *s, const rove_seen_note *notes, size_t n)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++)
		note_locked(s, notes[i].login, strlen(notes[i].login), notes[i].ms);
	pthread_mutex_unlock(&s->mu);
}
