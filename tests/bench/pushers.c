/*
 * pushers - push under load: starts `rove -R DIR sync --json` for every
 * replica DIR at the same moment (each child waits at a barrier until all
 * are forked), times each process from that moment to its exit (its
 * stdout closing; reaped once all have exited), and sums
 * what they pushed from their JSON output.
 *
 *   pushers ROVE_BIN DIR...
 *
 * Prints one JSON line: replicas, ops pushed and accepted, failed syncs,
 * the wall time until the last one finished, ops per second over that
 * wall time, the per-sync latency p50, p99 (nearest rank) and max, and the
 * CPU time all the rove processes used together. Also what ran beside
 * them in that window: this harness's own CPU (forking, reaping) and the
 * CPU the whole machine used from the start to the last exit (/proc/stat),
 * so that a caller can tell the server and other processes apart.
 * Exit status 1 if any sync failed or any op was rejected.
 */
#define _GNU_SOURCE /* pipe2 */
#include "bench_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PUSHERS 1024

typedef struct child {
	pid_t pid;
	int out;       /* read end of its stdout */
	double ms;     /* from the start to its exit */
	int status;
	char buf[512]; /* its output */
	size_t len;
} child;

/* The nearest-rank percentile p (0..1] of sorted v. */
static double rank(const double *v, int n, double p)
{
	int k = (int)(p * n);

	if (k < p * n)
		k++;

	return v[k < 1 ? 0 : k - 1];
}

/* CPU time (ms) the whole machine has used so far: user, nice, system,
 * irq, softirq and steal of /proc/stat's first line; -1 if unreadable. */
static double machine_cpu_ms(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int got;

	if (f == NULL)
		return -1;
	got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		     &v[6], &v[7]);
	fclose(f);
	if (got != 8)
		return -1;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static double tv_ms(struct timeval a, struct timeval b)
{
	return (double)(a.tv_sec + b.tv_sec) * 1000 + (double)(a.tv_usec + b.tv_usec) / 1000;
}

static unsigned long long field(const char *json, const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	p = strstr(json, pat);
	return p != NULL ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	static child ch[MAX_PUSHERS];
	static double lat[MAX_PUSHERS];
	int go[2], n = argc - 2, failed = 0, left, ep;
	struct epoll_event ev;
	unsigned long long pushed = 0, accepted = 0, rejected = 0;
	double t0, tend, m0, m1, self0;
	struct rusage ru, me;

	if (argc < 3 || n > MAX_PUSHERS) {
		fprintf(stderr, "usage: pushers ROVE_BIN DIR...\n");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("pushers: epoll_create1");
		return 1;
	}
	if (pipe(go) != 0) {
		perror("pushers: pipe");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int out[2];
		/* Close-on-exec: no child holds another's pipe. */
		if (pipe2(out, O_CLOEXEC) != 0) {
			perror("pushers: pipe");
			return 1;
		}
		ch[i].pid = fork();
		if (ch[i].pid < 0) {
			perror("pushers: fork");
			return 1;
		}
		if (ch[i].pid == 0) {
			char c;
			close(go[1]);
			close(out[0]);
			/* The barrier: EOF when the parent has started everyone. */
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			close(go[0]);
			dup2(out[1], STDOUT_FILENO);
			close(out[1]);
			execl(argv[1], argv[1], "-R", argv[i + 2], "sync", "--json", (char *)NULL);
			_exit(127);
		}
		close(out[1]);
		ch[i].out = out[0];
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, out[0], &ev) != 0) {
			perror("pushers: epoll_ctl");
			return 1;
		}
	}
	close(go[0]);
	getrusage(RUSAGE_SELF, &me);
	self0 = tv_ms(me.ru_utime, me.ru_stime);
	m0 = machine_cpu_ms();
	t0 = bench_now();
	close(go[1]);
	tend = t0;
	/* A sync ends when its stdout closes (its exit closes it, after its
	 * memory is released). Reaping waits until every one has ended: the
	 * kernel's cleanup of a reaped process (its /proc entries) is the
	 * harness's work, which 1,000 laptops would not put on these cores. */
	for (left = n; left > 0;) {
		struct epoll_event ready[64];
		int got = epoll_wait(ep, ready, 64, -1);
		double t = bench_now();
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("pushers: epoll_wait");
			return 1;
		}
		for (int k = 0; k < got; k++) {
			child *c = &ch[ready[k].data.u32];
			ssize_t r = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
			if (r > 0) {
				c->len += (size_t)r;
				if (c->len < sizeof(c->buf) - 1)
					continue;
			} else if (r < 0 && errno == EINTR) {
				continue;
			}
			/* EOF (or a reply longer than the buffer: enough to count). */
			if (epoll_ctl(ep, EPOLL_CTL_DEL, c->out, NULL) != 0) {
				perror("pushers: epoll_ctl");
				return 1;
			}
			c->ms = (t - t0) * 1000;
			tend = t;
			left--;
		}
	}
	m1 = machine_cpu_ms();
	getrusage(RUSAGE_SELF, &me);
	close(ep);
	for (int i = 0; i < n; i++) {
		while (waitpid(ch[i].pid, &ch[i].status, 0) < 0) {
			if (errno != EINTR) {
				perror("pushers: waitpid");
				return 1;
			}
		}
		ch[i].buf[ch[i].len] = '\0';
		close(ch[i].out);
		if (!WIFEXITED(ch[i].status) || WEXITSTATUS(ch[i].status) != 0) {
			failed++;
			fprintf(stderr, "pushers: sync of %s failed (status %d)\n", argv[i + 2], ch[i].status);
		}
		pushed += field(ch[i].buf, "pushed");
		accepted += field(ch[i].buf, "accepted");
		rejected += field(ch[i].buf, "rejected");
		lat[i] = ch[i].ms;
	}
	bench_sort(lat, (size_t)n);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("{\"replicas\":%d,\"pushed\":%llu,\"accepted\":%llu,\"rejected\":%llu,\"failed\":%d,"
	       "\"wall_ms\":%.3f,\"ops_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"clients_cpu_ms\":%.0f,\"harness_cpu_ms\":%.0f,\"machine_cpu_ms\":%.0f}\n",
	       n, pushed, accepted, rejected, failed, (tend - t0) * 1000, (double)accepted / (tend - t0),
	       rank(lat, n, 0.5), rank(lat, n, 0.99), lat[n - 1],
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000,
	       tv_ms(me.ru_utime, me.ru_stime) - self0, m0 < 0 || m1 < 0 ? -1 : m1 - m0);
	return failed == 0 && rejected == 0 ? 0 : 1;
}
