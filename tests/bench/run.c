/*
 * bench_run - times a whole command, the way a user meets it: from fork to
 * exit, with the process's peak RSS (getrusage's ru_maxrss via wait4), and
 * its CPU time, and optionally the CPU time and peak RSS of a running
 * server during the command (the server's VmHWM is reset through
 * /proc/PID/clear_refs before each run and read after it).
 *
 *   bench_run [--repeat N] [--before SHELLCMD] [--out FILE] [--server-pid PID]
 *             -- PROGRAM [ARG...]
 *
 * --before runs (untimed, through /bin/sh) before every run; a failure
 * stops everything. The command's standard output goes to FILE (the last
 * run's is kept) or /dev/null. Prints a JSON line per run and then one of
 * medians. Exit status 1 if any run failed.
 */
#include "bench_data.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNS 1000

static const char usage_text[] =
	"usage: bench_run [--repeat N] [--before SHELLCMD] [--out FILE] [--server-pid PID]\n"
	"                 -- PROGRAM [ARG...]\n";

static double median(double *v, int n)
{
	bench_sort(v, (size_t)n);
	if (n == 0)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Resets a process's peak RSS; false if it cannot. */
static int hwm_reset(long pid)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/%ld/clear_refs", pid);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return 0;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok;
}

/* A field of /proc/PID/status in kB (VmHWM: peak RSS, RssAnon: private
 * memory now), or -1. */
static long status_kb(long pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':' &&
		    sscanf(line + strlen(field) + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A process's CPU time so far in ms (utime + stime), or 0. */
static double cpu_read(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"repeat", required_argument, NULL, 'n'}, {"before", required_argument, NULL, 'b'},
		{"out", required_argument, NULL, 'o'},    {"server-pid", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	static double ms[MAX_RUNS], rss[MAX_RUNS], srss[MAX_RUNS], cpu[MAX_RUNS], scpu[MAX_RUNS], sanon[MAX_RUNS];
	const char *before = NULL, *out = "/dev/null";
	long server = 0;
	int repeat = 1, failed = 0, c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': repeat = atoi(optarg); break;
		case 'b': before = optarg; break;
		case 'o': out = optarg; break;
		case 's': server = atol(optarg); break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind >= argc || repeat < 1 || repeat > MAX_RUNS) {
		fputs(usage_text, stderr);
		return 2;
	}
	for (int run = 0; run < repeat; run++) {
		struct rusage ru;
		double t0, t1;
		pid_t pid;
		int status;

		if (before != NULL && system(before) != 0) {
			fprintf(stderr, "bench_run: --before failed: %s\n", before);
			return 1;
		}
		if (server > 0 && !hwm_reset(server))
			fprintf(stderr, "bench_run: cannot reset the peak RSS of %ld\n", server);
		scpu[run] = server > 0 ? cpu_read(server) : 0;
		fflush(stdout);
		t0 = bench_now();
		pid = fork();
		if (pid < 0) {
			perror("bench_run: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
				_exit(127);
			close(fd);
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		while (wait4(pid, &status, 0, &ru) < 0)
			if (errno != EINTR) {
				perror("bench_run: wait4");
				return 1;
			}
		t1 = bench_now();
		ms[run] = (t1 - t0) * 1000;
		rss[run] = (double)ru.ru_maxrss;
		srss[run] = server > 0 ? (double)status_kb(server, "VmHWM") : -1;
		sanon[run] = server > 0 ? (double)status_kb(server, "RssAnon") : -1;
		scpu[run] = server > 0 ? cpu_read(server) - scpu[run] : -1;
		cpu[run] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		printf("{\"run\":%d,\"ms\":%.3f,\"cpu_ms\":%.1f,\"maxrss_kb\":%ld,\"server_cpu_ms\":%.0f,"
		       "\"server_hwm_kb\":%ld,\"server_anon_kb\":%ld,\"status\":%d}\n",
		       run + 1, ms[run], cpu[run], ru.ru_maxrss, scpu[run], (long)srss[run], (long)sanon[run],
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	{
		double lo = ms[0], hi = ms[0], rmax = 0, smax = -1, amax = -1;
		for (int i = 0; i < repeat; i++) {
			lo = ms[i] < lo ? ms[i] : lo;
			hi = ms[i] > hi ? ms[i] : hi;
			rmax = rss[i] > rmax ? rss[i] : rmax;
			smax = srss[i] > smax ? srss[i] : smax;
			amax = sanon[i] > amax ? sanon[i] : amax;
		}
		printf("{\"runs\":%d,\"failed\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
		       "\"median_cpu_ms\":%.1f,\"median_server_cpu_ms\":%.0f,"
		       "\"median_maxrss_kb\":%.0f,\"max_maxrss_kb\":%.0f,\"median_server_hwm_kb\":%.0f,"
		       "\"max_server_hwm_kb\":%.0f,\"max_server_anon_kb\":%.0f}\n",
		       repeat, failed, median(ms, repeat), lo, hi, median(cpu, repeat), median(scpu, repeat),
		       median(rss, repeat), rmax, median(srss, repeat), smax, amax);
	}
	return failed ? 1 : 0;
}
