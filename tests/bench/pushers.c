/*
 * pushers - push under load: starts `rove -R DIR sync --json` for every
 * replica DIR at the same moment (each child waits at a barrier until all
 * are forked), times each process from that moment to its exit, and sums
 * what they pushed from their JSON output.
 *
 *   pushers ROVE_BIN DIR...
 *
 * Prints one JSON line: replicas, ops pushed and accepted, failed syncs,
 * the wall time until the last one finished, ops per second over that
 * wall time, the per-sync latency p50, p99 (nearest rank) and max, and the
 * CPU time all the rove processes used together.
 * Exit status 1 if any sync failed or any op was rejected.
 */
#include "bench_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int go[2], n = argc - 2, failed = 0, left;
	unsigned long long pushed = 0, accepted = 0, rejected = 0;
	double t0, tend;
	struct rusage ru;

	if (argc < 3 || n > MAX_PUSHERS) {
		fprintf(stderr, "usage: pushers ROVE_BIN DIR...\n");
		return 2;
	}
	if (pipe(go) != 0) {
		perror("pushers: pipe");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int out[2];
		if (pipe(out) != 0) {
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
	}
	close(go[0]);
	t0 = bench_now();
	close(go[1]);
	tend = t0;
	for (left = n; left > 0;) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		double t = bench_now();
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("pushers: waitpid");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (ch[i].pid != pid)
				continue;
			ch[i].ms = (t - t0) * 1000;
			ch[i].status = status;
			tend = t;
			left--;
		}
	}
	for (int i = 0; i < n; i++) {
		ssize_t got;
		while ((got = read(ch[i].out, ch[i].buf + ch[i].len, sizeof(ch[i].buf) - 1 - ch[i].len)) > 0)
			ch[i].len += (size_t)got;
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
	       "\"clients_cpu_ms\":%.0f}\n",
	       n, pushed, accepted, rejected, failed, (tend - t0) * 1000, (double)accepted / (tend - t0),
	       rank(lat, n, 0.5), rank(lat, n, 0.99), lat[n - 1],
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return failed == 0 && rejected == 0 ? 0 : 1;
}
