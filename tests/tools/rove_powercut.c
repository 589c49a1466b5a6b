/*
 * rove_powercut BASE TRACE OUT SEED - what a disk could hold after a power
 * cut: OUT is the file BASE (a copy taken before the traced process
 * started) with the writes of TRACE (tools/rove_powercut_trace.c) made on
 * it in order: each durable write (one before the last sync of the file,
 * or one made through a synchronous descriptor) whole, and each other one
 * page (4,096 bytes) by page, each page kept or lost as SEED's coin says,
 * as a disk cache may have written any of them out or none.
 *
 * Exit 0 with a line of counts; 1 when the trace cannot be used (an
 * msync: writes through a map, which it cannot hold); 2 on bad arguments
 * or an I/O error. A record cut short at the end (the process was killed
 * while it was appended) is left out: its write had not been made.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

typedef struct rec {
	char type;
	uint64_t off;
	uint32_t len;
	const unsigned char *data;
} rec;

static uint64_t rng;

static int coin(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int)(rng >> 63);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *p;
	size_t at = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb) != 0) {
		fprintf(stderr, "rove_powercut: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	p = malloc((size_t)sb.st_size + 1);
	if (p == NULL)
		exit(2);
	while (at < (size_t)sb.st_size) {
		ssize_t n = read(fd, p + at, (size_t)sb.st_size - at);
		if (n <= 0) {
			fprintf(stderr, "rove_powercut: read %s: %s\n", path, n < 0 ? strerror(errno) : "short");
			exit(2);
		}
		at += (size_t)n;
	}
	close(fd);
	*len = at;
	return p;
}

static void put(int fd, const unsigned char *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n <= 0) {
			fprintf(stderr, "rove_powercut: write: %s\n", strerror(errno));
			exit(2);
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

int main(int argc, char **argv)
{
	unsigned char *base, *tr;
	size_t blen, tlen, at = 0, n = 0, cap = 1024, last_sync = 0;
	size_t durable = 0, maybe = 0, pages = 0, kept = 0;
	rec *rs;
	int out, cut = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: rove_powercut BASE TRACE OUT SEED\n");
		return 2;
	}
	rng = strtoull(argv[4], NULL, 10) * 2654435761u + 88172645463325252u;
	base = slurp(argv[1], &blen);
	tr = slurp(argv[2], &tlen);
	rs = malloc(cap * sizeof(*rs));
	if (rs == NULL)
		return 2;
	while (at < tlen) {
		rec r = {(char)tr[at], 0, 0, NULL};
		if (r.type == 'W') {
			if (tlen - at < 13) {
				cut = 1;
				break;
			}
			memcpy(&r.off, tr + at + 1, 8);
			memcpy(&r.len, tr + at + 9, 4);
			if (tlen - at - 13 < r.len) {
				cut = 1;
				break;
			}
			r.data = tr + at + 13;
			at += 13 + r.len;
		} else if (r.type == 'D' || r.type == 'S') {
			at++;
		} else if (r.type == 'M') {
			fprintf(stderr,
				"rove_powercut: the process wrote through a memory map (msync): not traceable\n");
			return 1;
		} else {
			fprintf(stderr, "rove_powercut: bad record '%c' at byte %zu of the trace\n", r.type, at);
			return 2;
		}
		if (n == cap && (rs = realloc(rs, (cap *= 2) * sizeof(*rs))) == NULL)
			return 2;
		rs[n++] = r;
		if (r.type == 'S')
			last_sync = n;
	}
	out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		fprintf(stderr, "rove_powercut: %s: %s\n", argv[3], strerror(errno));
		return 2;
	}
	put(out, base, blen, 0);
	for (size_t i = 0; i < n; i++) {
		if (rs[i].type != 'W')
			continue;
		if (i < last_sync || (i + 1 < n && rs[i + 1].type == 'D')) {
			put(out, rs[i].data, rs[i].len, rs[i].off);
			durable++;
			continue;
		}
		maybe++;
		for (uint32_t o = 0; o < rs[i].len; o += PAGE) {
			uint32_t len = rs[i].len - o < PAGE ? rs[i].len - o : PAGE;
			pages++;
			if (coin()) {
				put(out, rs[i].data + o, len, rs[i].off + o);
				kept++;
			}
		}
	}
	if (close(out) != 0)
		return 2;
	printf("%zu writes: %zu durable, %zu not (%zu of their %zu pages kept)%s\n", durable + maybe, durable, maybe,
	       kept, pages, cut ? "; the last record cut short" : "");
	free(rs);
	free(tr);
	free(base);
	return 0;
}
