#include "net.h"

#include "err.h"
#include "lockfile.h"
#include "log.h"
#include "rove_assert.h"
#include "rove_limits.h"

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* nng 1.5.2 builds on mbedtls 2; mbedtls 3 changed the calls of
 * rove_net_tls_files_check (a random generator for the key's checks, the
 * certificate's key private). */
#if MBEDTLS_VERSION_MAJOR != 2
#error "common/net.c is written for mbedtls 2.x (Debian's libmbedtls-dev 2.28, with nng 1.5.2)"
#endif

bool rove_net_is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0;
}

/* A host name (letters, digits, hyphens and dots), an IPv4 address, or an
 * IPv6 address in brackets: the characters only; the resolver decides
 * the rest. */
static bool host_valid(const char *h, size_t len)
{
	if (len == 0)
		return false;
	if (h[0] == '[') {
		if (len < 3 || h[len - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < len; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return false;
		return true;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return false;
	return h[0] != '.' && h[0] != '-';
}

/* The schemes of a host and a port. */
static const char *const tcp[] = {"tcp://", "tls+tcp://"};

/* Whether the host h (len bytes, host_valid's) is an unspecified address
 * (0.0.0.0, and the forms inet_aton reads as it, or [::]): one to listen
 * on every address, not one to reach (Linux would dial this machine). */
static bool host_unspecified(const char *h, size_t len)
{
	char s[64];
	struct in_addr a4;
	struct in6_addr a6;
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (len >= sizeof(s))
		return false;
	if (h[0] == '[') {
		memcpy(s, h + 1, len - 2);
		s[len - 2] = '\0';
		return inet_pton(AF_INET6, s, &a6) == 1 && memcmp(&a6, &any6, sizeof(a6)) == 0;
	}
	memcpy(s, h, len);
	s[len] = '\0';
	return inet_aton(s, &a4) != 0 && a4.s_addr == htonl(INADDR_ANY);
}

/* Every address: empty, "*" or unspecified. */
static bool host_any(const char *h, size_t len)
{
	return len == 0 || (len == 1 && h[0] == '*') || host_unspecified(h, len);
}

bool rove_net_same_port(const char *url, const char *host_port)
{
	const char *hp = NULL, *uc, *mc = strrchr(host_port, ':');
	size_t ul, ml;

	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++)
		if (strncmp(url, tcp[i], strlen(tcp[i])) == 0)
			hp = url + strlen(tcp[i]);
	uc = hp != NULL ? strrchr(hp, ':') : NULL;
	if (uc == NULL || mc == NULL || strcmp(uc, mc) != 0)
		return false;
	ul = (size_t)(uc - hp);
	ml = (size_t)(mc - host_port);
	return (ul == ml && strncmp(hp, host_port, ul) == 0) || host_any(hp, ul) || host_any(host_port, ml);
}

/* rove_net_url_valid and rove_net_listen_url_valid: listen takes an
 * unspecified host (every address). */
static bool url_valid(const char *url, bool listen, char *why, size_t whylen)
{
	size_t len = strlen(url);

	if (len > ROVE_MAX_URL) {
		snprintf(why, whylen, "longer than %u bytes", (unsigned)ROVE_MAX_URL);
		return false;
	}
	if (strncmp(url, "ipc://", 6) == 0) {
		struct sockaddr_un sa;
		if (url[6] == '\0') {
			snprintf(why, whylen, "ipc:// needs a path, as in ipc:///run/rove.sock");
			return false;
		}
		if (len - 6 >= sizeof(sa.sun_path)) {
			snprintf(why, whylen, "an ipc:// path has at most %zu bytes", sizeof(sa.sun_path) - 1);
			return false;
		}
		if (url[6] != '/') {
			/* Else the socket is looked for where each program
			 * happens to run. */
			snprintf(why, whylen, "an ipc:// path must be absolute, as in ipc:///run/rove.sock");
			return false;
		}
		return true;
	}
	for (size_t k = 0; k < sizeof(tcp) / sizeof(tcp[0]); k++) {
		const char *hp, *colon, *p;
		unsigned long port = 0;
		if (strncmp(url, tcp[k], strlen(tcp[k])) != 0)
			continue;
		hp = url + strlen(tcp[k]);
		colon = strrchr(hp, ':');
		if (colon == NULL || (hp[0] == '[' && (strchr(hp, ']') == NULL || colon < strchr(hp, ']')))) {
			snprintf(why, whylen, "%s needs a host and a port, as in %shq.example:7411", tcp[k], tcp[k]);
			return false;
		}
		if (!host_valid(hp, (size_t)(colon - hp))) {
			snprintf(why, whylen, "'%.*s' is not a host name or address", (int)(colon - hp), hp);
			return false;
		}
		if (!listen && host_unspecified(hp, (size_t)(colon - hp))) {
			snprintf(why, whylen, "'%.*s' means every address of a server, not one to reach: give the server's name or address",
				 (int)(colon - hp), hp);
			return false;
		}
		for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (p > colon + 1 && *p == '/') {
			snprintf(why, whylen, "nothing may follow the port");
			return false;
		}
		if (p == colon + 1 || *p != '\0' || port == 0 || port > 65535) {
			snprintf(why, whylen, "the port must be a number from 1 to 65535");
			return false;
		}
		return true;
	}
	snprintf(why, whylen, "expected tcp://HOST:PORT, tls+tcp://HOST:PORT or ipc:///PATH");
	return false;
}

bool rove_net_url_valid(const char *url, char *why, size_t whylen)
{
	return url_valid(url, false, why, whylen);
}

bool rove_net_listen_url_valid(const char *url, char *why, size_t whylen)
{
	for (size_t k = 0; k < sizeof(tcp) / sizeof(tcp[0]); k++) {
		size_t plen = strlen(tcp[k]);
		const char *hp = url + plen, *rest;
		char any[ROVE_MAX_URL + 16];
		if (strncmp(url, tcp[k], plen) != 0)
			continue;
		/* Every address: checked as 0.0.0.0, the rest as it is. */
		rest = hp[0] == '*' ? hp + 1 : hp;
		if (rest[0] == ':' && strlen(url) <= ROVE_MAX_URL) {
			snprintf(any, sizeof(any), "%s0.0.0.0%s", tcp[k], rest);
			return url_valid(any, true, why, whylen);
		}
		break;
	}
	return url_valid(url, true, why, whylen);
}

/* Reads a whole PEM file, what (e.g. "the TLS key") by name, into a
 * NUL-terminated string the caller frees. Reported. */
static int read_pem(const char *what, const char *path, char **out)
{
	/* Opened without waiting (a FIFO would block until written to),
	 * then taken only if it is a regular file. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;
	char *buf;
	size_t n;
	int rc = ROVE_OK;

	if (fd < 0 || fstat(fd, &st) != 0) {
		rove_error("cannot read %s '%s': %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ROVE_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			rove_error("cannot read %s '%s': %s", what, path, strerror(EISDIR));
		else
			rove_error("%s '%s' is not a regular file", what, path);
		close(fd);
		return ROVE_EIO;
	}
	f = fdopen(fd, "rb");
	if (f == NULL) {
		rove_error("cannot read %s '%s': %s", what, path, strerror(errno));
		close(fd);
		return ROVE_EIO;
	}
	buf = malloc(ROVE_MAX_PEM_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		return ROVE_ENOMEM;
	}
	n = fread(buf, 1, ROVE_MAX_PEM_BYTES + 1, f);
	if (ferror(f)) {
		rove_error("cannot read %s '%s': %s", what, path, strerror(errno));
		rc = ROVE_EIO;
	} else if (n > ROVE_MAX_PEM_BYTES) {
		rove_error("%s '%s' is larger than %u bytes", what, path, ROVE_MAX_PEM_BYTES);
		rc = ROVE_ETOOBIG;
	}
	fclose(f);
	if (rc != ROVE_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	return ROVE_OK;
}

/* mbedtls's text for its error rv (as "X509 - ..."), into buf. */
static const char *mbed_why(int rv, char *buf, size_t len)
{
	mbedtls_strerror(rv, buf, len);
	return buf;
}

int rove_net_tls_files_check(const char *cert_file, const char *key_file)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	char *cert = NULL, *pem = NULL, why[160];
	int rv, rc;

	if (cert_file == NULL || key_file == NULL) {
		rove_error("a tls+tcp:// URL needs --tls-cert and --tls-key (PEM files)");
		return ROVE_EINVAL;
	}
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	rc = read_pem("the TLS certificate", cert_file, &cert);
	if (rc == ROVE_OK)
		rc = read_pem("the TLS key", key_file, &pem);
	/* As nng's mbedtls engine reads them (nng_tls_config_own_cert): the
	 * text with its NUL, which tells mbedtls it is PEM; the file's first
	 * certificate is the server's, any after it its chain. */
	if (rc == ROVE_OK && (rv = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, strlen(cert) + 1)) != 0) {
		if (rv > 0)
			rove_error("the TLS certificate '%s' holds %d part(s) that are no certificate", cert_file, rv);
		else
			rove_error("the TLS certificate '%s' holds no certificate mbedtls can read (%s): a PEM file "
				   "with -----BEGIN CERTIFICATE----- is needed",
				   cert_file, mbed_why(rv, why, sizeof(why)));
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK &&
	    (rv = mbedtls_pk_parse_key(&key, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0)) != 0) {
		if (rv == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || rv == MBEDTLS_ERR_PK_PASSWORD_MISMATCH)
			rove_error("the TLS key '%s' is encrypted: roved takes a key without a passphrase (openssl "
				   "pkey -in KEY -out PLAIN.key; keep it readable by roved's user only)",
				   key_file);
		else
			rove_error("the TLS key '%s' holds no private key mbedtls can read (%s): a PEM file with "
				   "-----BEGIN ... PRIVATE KEY----- is needed",
				   key_file, mbed_why(rv, why, sizeof(why)));
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK && (rv = mbedtls_pk_check_pair(&crt.pk, &key)) != 0) {
		/* (mbedtls's own text, "failed to pass the validity check",
		 * would blame the key itself.) */
		rove_error("the TLS key '%s' does not match the certificate '%s': it is not the private key of "
			   "the certificate's public key, and clients could not complete a handshake; give roved "
			   "the key the certificate was made for",
			   key_file, cert_file);
		rc = ROVE_EINVAL;
	}
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	if (pem != NULL) /* a private key: not left in freed memory */
		mbedtls_platform_zeroize(pem, strlen(pem));
	free(pem);
	free(cert);
	return rc;
}

/* Whether a server answers at ipc://PATH. It is asked the way a client
 * asks, with a whole SP handshake: a bare connect that leaves before the
 * server's handshake goes out (what nng's own check for a stale socket
 * file does when it meets a live one) stops nng 1.5.2's accept loop for
 * good (its bug 1518), and the running server would never answer again. */
static bool ipc_in_use(const char *url)
{
	struct stat st;
	nng_socket s;
	nng_dialer d;
	int rv;

	if (stat(url + strlen("ipc://"), &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	if ((rv = nng_req0_open(&s)) != 0) {
		rove_warn("cannot check for a server on '%s': %s", url, nng_strerror(rv));
		return false; /* nng's own check still refuses a live one */
	}
	rv = nng_dialer_create(&d, s, url);
	if (rv == 0)
		rv = nng_dialer_start(d, 0);
	nng_close(s);
	/* Refused or gone: a stale file, which nng replaces. A handshake that
	 * timed out or was not permitted: something is there. */
	return rv != NNG_ECONNREFUSED && rv != NNG_ENOENT && rv != NNG_EADDRINVAL;
}

/* Whether a listener may take the ipc:// path of url: nng removes what
 * is there when nothing answers on it (a stale socket), by path, and
 * again at the end, so a regular file there would go (attack fifty: root's
 * roved deleted a root file through the socket path), and as root the
 * directory must be one root alone controls (rove_lockfile_dir_trusted:
 * else another user could swap it under the removal). ROVE_OK, or an
 * error said. */
static int ipc_path_ok(const char *url)
{
	const char *path = url + strlen("ipc://");
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int rc;

	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		rove_error("cannot listen on '%s': '%s' is there and is not a socket (not removed)", url, path);
		return ROVE_EIO;
	}
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return ROVE_OK; /* nng says what is wrong */
	if (slash == path) {
		snprintf(dir, sizeof(dir), "/"); /* "/s.sock" */
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	rc = rove_lockfile_dir_trusted(dir, false);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK; /* nng says there is no such directory */
	return rc == ROVE_OK ? ROVE_OK : ROVE_EIO; /* said */
}

/* The host of SCHEME://HOST:PORT (brackets of an IPv6 host taken off) into out. */
static void url_host(const char *url, char *out, size_t len)
{
	const char *h = strstr(url, "://");
	const char *end;
	size_t n;

	h = h ? h + 3 : url;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = strrchr(h, ':');
	}
	n = end ? (size_t)(end - h) : strlen(h);
	if (n >= len)
		n = len - 1;
	memcpy(out, h, n);
	out[n] = '\0';
}

int rove_net_listen_check(const char *url)
{
	const char *scheme_end = strstr(url, "://"), *colon = strrchr(url, ':');
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	int rv, fd, one = 1, err = 0;

	if (strncmp(url, "ipc://", 6) == 0) {
		if (ipc_in_use(url)) {
			rove_error("cannot listen: another server is listening on '%s'", url);
			return ROVE_EIO;
		}
		return ipc_path_ok(url);
	}
	/* Anything odd is left to rove_net_listen, which says what is wrong. */
	if ((strncmp(url, "tcp://", 6) != 0 && strncmp(url, "tls+tcp://", 10) != 0) ||
	    colon == NULL || colon < scheme_end + 3 || strlen(colon + 1) >= sizeof(port) ||
	    strlen(url) >= sizeof(host))
		return ROVE_OK;
	url_host(url, host, sizeof(host));
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rv = getaddrinfo(host[0] == '\0' || strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
	if (rv != 0 || res == NULL)
		return ROVE_OK;
	/* Bound, not listened on, as nng binds it (SO_REUSEADDR: a port
	 * left in TIME_WAIT is free): taken by another socket, it is in use. */
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
			err = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (err == EADDRINUSE) {
		rove_error("cannot listen on '%s': address in use", url);
		return ROVE_EIO;
	}
	return ROVE_OK;
}

int rove_net_listen(nng_socket sock, const char *url, const char *cert_file, const char *key_file,
		    nng_listener *out)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL;
	int rv, rc = ROVE_OK;

	if (strncmp(url, "ipc://", 6) == 0 && ipc_in_use(url)) {
		rove_error("cannot listen: another server is listening on '%s'", url);
		return ROVE_EIO;
	}
	if (strncmp(url, "ipc://", 6) == 0 && ipc_path_ok(url) != ROVE_OK)
		return ROVE_EIO; /* said */
	rv = nng_listener_create(&l, sock, url);
	if (rv != 0) {
		rove_error("cannot listen on '%s': %s", url, nng_strerror(rv));
		return ROVE_EINVAL;
	}
	if (rove_net_is_tls(url)) {
		if (cert_file == NULL || key_file == NULL) {
			rove_error("%s needs --tls-cert and --tls-key", url);
			rc = ROVE_EINVAL;
		}
		if (rc == ROVE_OK)
			rc = read_pem("the TLS certificate", cert_file, &cert);
		if (rc == ROVE_OK)
			rc = read_pem("the TLS key", key_file, &key);
		if (rc == ROVE_OK && (rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) == 0 &&
		    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) == 0 &&
		    (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) == 0)
			rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		if (rc == ROVE_OK && rv != 0) {
			rove_error("TLS setup with '%s' and '%s': %s", cert_file, key_file, nng_strerror(rv));
			rc = ROVE_EINVAL;
		}
		if (cfg != NULL)
			nng_tls_config_free(cfg); /* the listener holds its own reference */
		free(cert);
		if (key != NULL) /* a private key: not left in freed memory */
			mbedtls_platform_zeroize(key, strlen(key));
		free(key);
	}
	if (rc == ROVE_OK && (rv = nng_listener_start(l, 0)) != 0) {
		rove_error("cannot listen on '%s': %s", url, nng_strerror(rv));
		rc = ROVE_EIO;
	}
	if (rc != ROVE_OK) {
		nng_listener_close(l);
		return rc;
	}
	if (out != NULL)
		*out = l;
	return ROVE_OK;
}

/* A dial that ends in time: nng 1.5.2's blocking nng_dialer_start waits
 * for the connection and its SP handshake, which nng gives 10 s whatever
 * the caller's timeout (a server that accepts and never answers holds it
 * that long); a non-blocking start would wait out the timeout for a
 * refused connection too, which is an answer at once. So the blocking
 * start runs on a thread of its own, which writes its result to a pipe,
 * while the caller polls the pipe up to the timeout; past it, closing the
 * dialer aborts the start (nng finishes it with NNG_ECLOSED) and the
 * thread is joined. A pipe and poll's relative timeout rather than a
 * condition variable's absolute time: a laptop's clock may be anything
 * (and tests move it with libfaketime, which shifts absolute times). */
typedef struct dial_wait {
	nng_dialer d;
	int fd; /* the pipe's write end */
} dial_wait;

static void *dial_thread(void *arg)
{
	dial_wait *w = arg;
	int rv = nng_dialer_start(w->d, 0);

	/* A pipe holds far more than one int: the write cannot block, and it
	 * cannot fail but for a closed read end, which the caller keeps
	 * open until it has joined this thread. */
	if (write(w->fd, &rv, sizeof(rv)) != (ssize_t)sizeof(rv))
		rove_debug("dial: cannot report the result: %s", strerror(errno));
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The milliseconds left until the monotonic time until (at least 1). */
static int left_ms(uint64_t until)
{
	uint64_t now = mono_ms();

	return until > now ? (int)(until - now) : 1;
}

/* nng_dialer_start(d, 0) bounded by timeout_ms: its result, or
 * NNG_ETIMEDOUT (the dialer closed), or an error starting the wait. */
static int dial_within(nng_dialer d, int timeout_ms)
{
	dial_wait w = {d, -1};
	uint64_t until;
	pthread_t t;
	int fds[2], rv = NNG_ETIMEDOUT;

	if (timeout_ms <= 0)
		return nng_dialer_start(d, 0);
	if (pipe(fds) != 0)
		return NNG_ENOMEM;
	w.fd = fds[1];
	until = mono_ms() + (uint64_t)timeout_ms;
	if (pthread_create(&t, NULL, dial_thread, &w) != 0) {
		close(fds[0]);
		close(fds[1]);
		return NNG_ENOMEM;
	}
	for (;;) {
		struct pollfd p = {fds[0], POLLIN, 0};
		uint64_t now = mono_ms();
		int n = now >= until ? 0 : poll(&p, 1, (int)(until - now));
		if (n > 0) {
			if (read(fds[0], &rv, sizeof(rv)) != (ssize_t)sizeof(rv))
				rv = NNG_EINTERNAL;
			break;
		}
		if (n == 0 || errno != EINTR)
			break; /* timed out (or poll failed): rv is NNG_ETIMEDOUT */
	}
	if (rv == NNG_ETIMEDOUT)
		nng_dialer_close(d); /* ends the start: the thread returns */
	pthread_join(t, NULL);
	close(fds[0]);
	close(fds[1]);
	return rv;
}

/* A client's TLS setup for dialer d: the server's certificate must be
 * signed by a certificate of ca_file and, when host is not NULL, name it.
 * An nng status. */
static int tls_client(nng_dialer d, const char *ca_file, const char *host)
{
	nng_tls_config *cfg = NULL;
	int rv;

	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) == 0 &&
	    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) == 0 &&
	    (rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) == 0 &&
	    (rv = nng_tls_config_ca_file(cfg, ca_file)) == 0 &&
	    (host == NULL || (rv = nng_tls_config_server_name(cfg, host)) == 0))
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the dialer holds its own reference */
	return rv;
}

const char *rove_net_why_unreached(const char *url, char *buf, size_t len)
{
	const char *path = strncmp(url, "ipc://", 6) == 0 ? url + 6 : NULL;
	struct stat st;

	if (path == NULL || path[0] == '\0')
		return "";
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return "";
		snprintf(buf, len, "; no socket at %s (is roved serving there?)", path);
	} else if (!S_ISSOCK(st.st_mode)) {
		snprintf(buf, len, "; %s is not a socket", path);
	} else if (access(path, W_OK) != 0) {
		snprintf(buf, len, "; the socket %s is uid %lu's, mode %03o: uid %lu may not connect to it", path,
			 (unsigned long)st.st_uid, (unsigned)(st.st_mode & 0777), (unsigned long)geteuid());
	} else {
		return "";
	}
	return buf;
}

int rove_net_err(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return ROVE_OK;
	case NNG_ETIMEDOUT:
		return ROVE_ETIMEDOUT;
	/* nng's mbedtls engine: NNG_EPEERAUTH for what the peer's
	 * certificate (or its refusal of ours) failed, NNG_ECRYPTO for
	 * mbedtls's other handshake errors, a certificate that fails
	 * verification among them (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED). */
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return ROVE_ETLS;
	default:
		return ROVE_EUNREACH;
	}
}

/* Reads up to len bytes into buf over a bare stream of its own to url
 * (for tls+tcp://, a TLS one that checks no certificate), within
 * timeout_ms but at most ROVE_MAX_PLAIN_PROBE_MS; *got says how many
 * arrived. The nng status. */
static int probe_read(const char *url, int timeout_ms, uint8_t *buf, size_t len, size_t *got)
{
	rove_net_raw raw;
	int rv, wait = timeout_ms < ROVE_MAX_PLAIN_PROBE_MS ? timeout_ms : ROVE_MAX_PLAIN_PROBE_MS;

	*got = 0;
	rv = rove_net_raw_open(&raw, url, wait);
	if (rv == 0)
		rv = rove_net_raw_io(&raw, false, buf, len, wait, got);
	rove_net_raw_close(&raw);
	return rv;
}

/* Whether an SP server answers at url (tcp://, or tls+tcp:// with no
 * certificate checked): an SP peer sends its 8-byte header ("\0SP\0"
 * and its protocol) as soon as a connection (and its TLS handshake) is
 * made. Anything else, or nothing within timeout_ms (probe_read's
 * bound), is a no. */
static bool speaks_sp(const char *url, int timeout_ms)
{
	uint8_t head[8];
	size_t got;

	return probe_read(url, timeout_ms, head, sizeof(head), &got) == 0 && got == sizeof(head) &&
	       head[0] == 0 && head[1] == 'S' && head[2] == 'P' && head[3] == 0;
}

/* Whether a plain SP server (tcp://, no TLS) answers at the host and
 * port of the tls+tcp:// url, where a TLS server would wait for the
 * client's hello. */
static bool speaks_plain_sp(const char *url, int timeout_ms)
{
	return strncmp(url, "tls+", 4) == 0 && speaks_sp(url + 4, timeout_ms);
}

/* Whether an SP server over TLS answers at the host and port of the
 * tcp:// url: it breaks a plain SP handshake off (the header is no TLS
 * hello) and completes a TLS one. */
static bool speaks_tls_sp(const char *url, int timeout_ms)
{
	char tls[ROVE_MAX_URL + 8];

	if (strncmp(url, "tcp://", 6) != 0 || (size_t)snprintf(tls, sizeof(tls), "tls+%s", url) >= sizeof(tls))
		return false;
	return speaks_sp(tls, timeout_ms);
}

int rove_net_raw_open(rove_net_raw *raw, const char *url, int timeout_ms)
{
	int rv;

	memset(raw, 0, sizeof(*raw));
	rv = nng_aio_alloc(&raw->aio, NULL, NULL);
	if (rv == 0)
		rv = nng_stream_dialer_alloc(&raw->d, url);
	if (rv == 0 && rove_net_is_tls(url))
		rv = nng_stream_dialer_set_int(raw->d, NNG_OPT_TLS_AUTH_MODE, NNG_TLS_AUTH_MODE_NONE);
	if (rv == 0) {
		nng_aio_set_timeout(raw->aio, timeout_ms > 0 ? timeout_ms : 1);
		nng_stream_dialer_dial(raw->d, raw->aio);
		nng_aio_wait(raw->aio);
		if ((rv = nng_aio_result(raw->aio)) == 0)
			raw->conn = nng_aio_get_output(raw->aio, 0);
	}
	return rv;
}

int rove_net_raw_io(rove_net_raw *raw, bool send, void *buf, size_t len, int timeout_ms, size_t *done)
{
	int rv = 0;

	ROVE_ASSERT(raw->conn != NULL);
	*done = 0;
	while (rv == 0 && *done < len) {
		nng_iov iov = {(uint8_t *)buf + *done, len - *done};
		if ((rv = nng_aio_set_iov(raw->aio, 1, &iov)) != 0)
			break;
		nng_aio_set_timeout(raw->aio, timeout_ms > 0 ? timeout_ms : 1);
		if (send)
			nng_stream_send(raw->conn, raw->aio);
		else
			nng_stream_recv(raw->conn, raw->aio);
		nng_aio_wait(raw->aio);
		if ((rv = nng_aio_result(raw->aio)) == 0)
			*done += nng_aio_count(raw->aio);
	}
	return rv;
}

void rove_net_raw_close(rove_net_raw *raw)
{
	if (raw->conn != NULL) {
		nng_stream_close(raw->conn);
		nng_stream_free(raw->conn);
	}
	if (raw->d != NULL) {
		nng_stream_dialer_close(raw->d);
		nng_stream_dialer_free(raw->d);
	}
	if (raw->aio != NULL)
		nng_aio_free(raw->aio);
	memset(raw, 0, sizeof(*raw));
}

/* Whether a TLS handshake with the tls+tcp:// url completes when no
 * certificate is checked (probe_read's bound): reading one byte makes
 * the handshake first. A TLS server answers it (an SP peer then sends its
 * header; a silent one times out, taken as a yes); a server of another
 * protocol (HTTP, say) fails it. */
static bool tls_handshakes(const char *url, int timeout_ms)
{
	uint8_t b;
	size_t got;
	int rv = probe_read(url, timeout_ms, &b, 1, &got);

	return rv == 0 || rv == NNG_ETIMEDOUT;
}

/* The tcp:// url of a server that speaks TLS. */
static void only_tls(const char *url)
{
	rove_error("TLS: the server at %s speaks TLS: use tls+%s, with the CA file that signed its certificate "
		   "(rove config server tls+%s; rove config ca FILE)",
		   url, url, url);
}

static void not_tls(const char *url)
{
	rove_error("TLS: the server at %s does not speak TLS: if it serves plain tcp://, use that URL "
		   "(rove config server URL)",
		   url);
}

/* Whether host is an IPv4 or IPv6 address, not a name. */
static bool host_is_ip(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Why the TLS handshake with url failed: dialled again on sock (a
 * dialer of its own, closed again), trusting ca_file but not asking the
 * certificate to name the host. If that succeeds, the CA signs the
 * certificate and only the host is wrong; else the CA does not vouch for
 * it (another CA's, or out of its validity). Reported. */
static void tls_why(nng_socket sock, const char *url, const char *ca_file, const char *host, int timeout_ms)
{
	nng_dialer d;
	int rv = nng_dialer_create(&d, sock, url);

	if (rv == 0) {
		rv = tls_client(d, ca_file, NULL);
		if (rv == 0)
			rv = dial_within(d, timeout_ms);
		if (rv != NNG_ETIMEDOUT)
			nng_dialer_close(d); /* dial_within closed it on a timeout */
	}
	if (rv == 0 && host_is_ip(host))
		rove_error("TLS: the server's certificate does not name the host '%s' of %s as a DNS name: the "
			   "TLS library (mbedtls) matches a host only against DNS names, an IP address too - give the "
			   "server a certificate with DNS:%s beside IP:%s, or use a host name in the URL",
			   host, url, host, host);
	else if (rv == 0)
		rove_error("TLS: the server's certificate does not name the host '%s' of %s: "
			   "use the host name it was made for in the URL (rove config server URL), or a certificate "
			   "for this host on the server",
			   host, url);
	else if (rv != NNG_ETIMEDOUT && speaks_plain_sp(url, timeout_ms))
		not_tls(url);
	else if (rove_net_err(rv) == ROVE_ETLS && !tls_handshakes(url, timeout_ms))
		rove_error("TLS: the server at %s does not complete a TLS handshake: it speaks another protocol "
			   "(is the URL's port roved's? rove config server URL)",
			   url);
	else if (rove_net_err(rv) == ROVE_ETLS)
		rove_error("TLS: the server's certificate is not trusted by the CA file '%s' (signed by another CA, "
			   "expired or not yet valid - is this computer's date right?): check the CA file (rove "
			   "config ca FILE), the date and the server's certificate",
			   ca_file);
	else
		rove_error("TLS: the handshake with %s failed (%s); the server's certificate is not trusted", url,
			   nng_strerror(rv));
}

/* A new dialer of sock for url into *d, with its TLS setup for a
 * tls+tcp:// url (host: the url's); a rove status, said on failure. */
static int dialer_new(nng_socket sock, const char *url, const char *ca_file, char host[256], nng_dialer *d)
{
	int rv = nng_dialer_create(d, sock, url);

	if (rv != 0) {
		rove_error("invalid server URL '%s': %s", url, nng_strerror(rv));
		return ROVE_EINVAL;
	}
	/* A connection lost later is dialled again by the dialer itself. */
	if ((rv = nng_dialer_set_ms(*d, NNG_OPT_RECONNMINT, ROVE_DIAL_RETRY_MS)) != 0 ||
	    (rv = nng_dialer_set_ms(*d, NNG_OPT_RECONNMAXT, ROVE_REDIAL_MAX_MS)) != 0) {
		rove_error("cannot set up a connection: %s", nng_strerror(rv));
		nng_dialer_close(*d);
		return ROVE_EINVAL;
	}
	if (rove_net_is_tls(url)) {
		if (ca_file == NULL || ca_file[0] == '\0') {
			rove_error("%s needs a CA certificate (rove init --ca FILE, or $ROVE_TLS_CA)", url);
			return ROVE_EINVAL;
		}
		url_host(url, host, 256);
		rv = tls_client(*d, ca_file, host);
		if (rv != 0) {
			rove_error("TLS setup with CA '%s': %s", ca_file, nng_strerror(rv));
			return ROVE_EINVAL;
		}
	}
	return ROVE_OK;
}

int rove_net_dial(nng_socket sock, const char *url, const char *ca_file, int timeout_ms, nng_dialer *out)
{
	nng_dialer d;
	char host[256] = "";
	uint64_t until = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	uint32_t wait = ROVE_DIAL_RETRY_MS;
	int rv, rc;

	for (int attempt = 1;; attempt++) {
		uint64_t now;
		rc = dialer_new(sock, url, ca_file, host, &d);
		if (rc != ROVE_OK)
			return rc;
		rv = dial_within(d, timeout_ms > 0 ? left_ms(until) : timeout_ms);
		if (rv == 0) {
			if (out != NULL)
				*out = d;
			return ROVE_OK;
		}
		/* A TLS server breaks a plain SP handshake off at once (its
		 * header is no TLS hello): asked once whether it completes a
		 * TLS one, before any dialling again. */
		if (attempt == 1 && (rv == NNG_ECONNRESET || rv == NNG_ECONNSHUT) && !rove_net_is_tls(url) &&
		    speaks_tls_sp(url, timeout_ms > 0 ? left_ms(until) : ROVE_MAX_PLAIN_PROBE_MS)) {
			nng_dialer_close(d);
			only_tls(url);
			return ROVE_ETLS;
		}
		/* Reset or shut while being set up: the server is there (its
		 * listener may have been reopened); dialled again while the
		 * timeout leaves time. */
		now = mono_ms();
		if ((rv != NNG_ECONNRESET && rv != NNG_ECONNSHUT) || attempt >= ROVE_MAX_DIAL_ATTEMPTS ||
		    (timeout_ms > 0 && now + wait >= until))
			break;
		rove_debug("dial %s: %s; dialling again in %u ms", url, nng_strerror(rv), wait);
		nng_dialer_close(d);
		nanosleep(&(struct timespec){wait / 1000, (long)(wait % 1000) * 1000000L}, NULL);
		wait *= 2;
	}
	rove_debug("dial %s: %s", url, nng_strerror(rv));
	rc = rove_net_err(rv);
	/* A plain server breaks a TLS hello off in its own time: mbedtls
	 * reports that as a handshake error or as a closed connection. */
	if (rove_net_is_tls(url) && rc != ROVE_ETLS && rv != NNG_ETIMEDOUT && rv != NNG_ECONNREFUSED &&
	    speaks_plain_sp(url, timeout_ms)) {
		nng_dialer_close(d);
		not_tls(url);
		return ROVE_ETLS;
	}
	if (rc == ROVE_ETLS && rove_net_is_tls(url)) {
		nng_dialer_close(d);
		tls_why(sock, url, ca_file, host, timeout_ms);
	}
	return rc;
}

void rove_net_tune_malloc(void)
{
#ifdef __GLIBC__
	/* Above the threshold glibc maps each block and unmaps it when freed;
	 * below it, and with the heap's top kept up to the trim threshold,
	 * freed chunk buffers are simply reused. Fixed values also stop
	 * glibc's own threshold from sliding. A refusal (0) only costs
	 * speed, so it is not an error. */
	(void)mallopt(M_MMAP_THRESHOLD, (int)(2 * ROVE_MAX_MSG_BYTES));
	(void)mallopt(M_TRIM_THRESHOLD, (int)(8 * ROVE_MAX_MSG_BYTES));
#endif
}

void rove_net_tune_malloc_client(void)
{
	rove_net_tune_malloc();
#ifdef __GLIBC__
	/* One arena: nng's threads receive the replies, and glibc gives each
	 * thread an arena of its own, which kept a freed chunk buffer each
	 * (13 threads: ~50 MB of a bootstrap's peak RSS with 4 MiB snapshot
	 * chunks). The client's one thread of work has no one to contend
	 * with for it. */
	(void)mallopt(M_ARENA_MAX, 1);
#endif
}
