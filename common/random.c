#include "random.h"

#include "err.h"

#include <errno.h>
#include <sys/random.h>

int rove_random_bytes(void *out, size_t len)
{
	unsigned char *p = out;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ROVE_EIO;
		got += (size_t)n;
	}
	return ROVE_OK;
}

int rove_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];

	for (size_t done = 0; done < nbytes;) {
		size_t n = nbytes - done < sizeof(raw) ? nbytes - done : sizeof(raw);
		int rc = rove_random_bytes(raw, n);
		if (rc != ROVE_OK)
			return rc;
		for (size_t i = 0; i < n; i++, done++) {
			out[2 * done] = hex[raw[i] >> 4];
			out[2 * done + 1] = hex[raw[i] & 15];
		}
	}
	out[2 * nbytes] = '\0';
	return ROVE_OK;
}

uint64_t rove_random_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull; /* no entropy yet: still a valid table */
	return s;
}
