// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs_fuzz: random writes to every knob of every mmrace scenario,
 * run in the guest (a static binary in the initramfs).
 *
 * Every write's outcome is predicted and checked: an invalid value gets
 * EINVAL, a valid one while its scenario runs gets EBUSY, a valid one
 * otherwise succeeds.  Inputs: valid, padded, out of range, negative,
 * overflowing, empty, very long, binary, split over two writes, and
 * writes while a (clean) variant runs, while a child process reads
 * every file in a loop.  Only clean variants are ever started: a bug
 * variant's splat would be the fuzzer's doing.  Afterwards a valid run
 * must still work.  The host judge separately checks that nothing
 * splatted.
 *
 * usage: debugfs_fuzz [writes] [seed]
 * prints "mmrace-test: ok|not ok <name> (...)" lines.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define D "/sys/kernel/debug/mmrace"
#define MAX_SC 16
#define MAX_KNOBS 32
#define MAX_VARS 16

struct knob {
	char name[32];
	unsigned long long min, max;
};

struct scenario {
	char name[32];
	char clean[MAX_VARS][32];
	int nclean;
	struct knob knob[MAX_KNOBS];
	int nknobs;
};

static struct scenario sc[MAX_SC];
static int nsc;
static unsigned long long n_ok, n_einval, n_ebusy, n_bad, n_writes;

static unsigned int rnd(unsigned int n)
{
	return n ? (unsigned int)random() % n : 0;
}

static void path(char *buf, size_t len, const struct scenario *s,
		 const char *file)
{
	snprintf(buf, len, D "/%s/%s", s->name, file);
}

static int read_file(const char *p, char *buf, size_t len)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* One write(2) of exactly @len bytes; returns 0 or errno. */
static int write_raw(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) < 0)
		err = errno;
	close(fd);
	return err;
}

static int running(const struct scenario *s)
{
	char p[128], b[8];

	path(p, sizeof(p), s, "run");
	return !read_file(p, b, sizeof(b)) && b[0] == '1';
}

static int load(void)
{
	char buf[8192], *line, *save;
	int i;

	if (read_file(D "/scenarios", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32], var[32], expect[128];
		struct scenario *s = NULL;

		if (sscanf(line, "%31[^/]/%31s expect=%127s", name, var, expect) != 3)
			continue;
		for (i = 0; i < nsc; i++)
			if (!strcmp(sc[i].name, name))
				s = &sc[i];
		if (!s && nsc < MAX_SC) {
			s = &sc[nsc++];
			snprintf(s->name, sizeof(s->name), "%s", name);
		}
		if (s && !strcmp(expect, "clean") && s->nclean < MAX_VARS)
			snprintf(s->clean[s->nclean++], 32, "%s", var);
	}
	for (i = 0; i < nsc; i++) {
		char p[128], kb[8192], *l, *sv;
		struct scenario *s = &sc[i];

		path(p, sizeof(p), s, "knobs");
		if (read_file(p, kb, sizeof(kb)))
			return -1;
		for (l = strtok_r(kb, "\n", &sv); l && s->nknobs < MAX_KNOBS;
		     l = strtok_r(NULL, "\n", &sv)) {
			struct knob *k = &s->knob[s->nknobs];

			if (sscanf(l, "%31s %llu %llu", k->name, &k->min, &k->max) == 3)
				s->nknobs++;
		}
	}
	return nsc ? 0 : -1;
}

/* Reads every file of every scenario until killed: reads while writing. */
static void reader(void)
{
	static const char *const files[] = { "stats", "result", "variant", "knobs", "run" };
	char p[128], b[8192];

	for (;;) {
		const struct scenario *s = &sc[rnd(nsc)];

		path(p, sizeof(p), s, files[rnd(5)]);
		read_file(p, b, sizeof(b));
	}
}

/*
 * Check one outcome.  @valid: the value parses and is in range.  A
 * change of running state during the write allows either answer.
 */
static void judge(const struct scenario *s, const char *file, const char *what,
		  int valid, int busy_before, int err, int stop_write)
{
	int busy_after = running(s), want;

	n_writes++;
	if (!valid)
		want = EINVAL;
	else if (busy_before && busy_after && !stop_write)
		want = EBUSY;
	else if (!busy_before && !busy_after)
		want = 0;
	else
		want = err == EBUSY ? EBUSY : 0;
	if (err == want) {
		if (!err)
			n_ok++;
		else if (err == EINVAL)
			n_einval++;
		else
			n_ebusy++;
		return;
	}
	if (n_bad++ < 10)
		printf("  unexpected: %s/%s <- %s: got %s, want %s\n", s->name, file,
		       what, err ? strerror(err) : "success",
		       want ? strerror(want) : "success");
}

/*
 * What the module must say to @len bytes: the same steps as its write
 * handler (1..63 bytes, no NUL, whitespace stripped, kstrtou64 base 0,
 * then the knob's range).  "contexts" also takes names; only numbers
 * and garbage are fuzzed here, and neither spells a name.
 */
static int predict(const char *buf, int len, const struct knob *k)
{
	char w[64], *b, *e, *end;
	unsigned long long v;

	if (len < 1 || len >= 64 || memchr(buf, 0, len))
		return 0;
	memcpy(w, buf, len);
	w[len] = '\0';
	for (b = w; *b == ' ' || (*b >= '\t' && *b <= '\r'); b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r')); e--)
		;
	*e = '\0';
	if (*b == '+')
		b++;
	if (!*b || *b == '-' || *b == '+' || *b == ' ')
		return 0;
	errno = 0;
	v = strtoull(b, &end, 0);
	return !errno && !*end && v >= k->min && v <= k->max;
}

static void fuzz_knob(const struct scenario *s)
{
	const struct knob *k = &s->knob[rnd(s->nknobs)];
	char p[128], buf[512], what[48];
	unsigned long long v;
	int busy, err, len, i;

	path(p, sizeof(p), s, k->name);
	v = k->min + (k->max > k->min ? (unsigned long long)random() % (k->max - k->min + 1) : 0);
	switch (rnd(10)) {
	case 0: /* in range, decimal */
		len = snprintf(buf, sizeof(buf), "%llu", v);
		break;
	case 1: /* in range, padded, hex */
		len = snprintf(buf, sizeof(buf), " \t0x%llx\t\n", v);
		break;
	case 2: /* just out of range, or far */
		len = snprintf(buf, sizeof(buf), "%llu", k->max + 1 + rnd(2) * 1000000ULL);
		break;
	case 3: /* negative */
		len = snprintf(buf, sizeof(buf), "-%u", 1 + rnd(100));
		break;
	case 4: /* overflows u64 */
		len = snprintf(buf, sizeof(buf), "99999999999999999999999%u", rnd(10));
		break;
	case 5: /* empty */
		len = 0;
		break;
	case 6: /* very long */
		len = 64 + rnd(400);
		memset(buf, '7', len);
		break;
	case 7: /* binary */
		len = 1 + rnd(60);
		for (i = 0; i < len; i++)
			buf[i] = (char)rnd(256);
		break;
	case 8: /* whitespace only */
		len = snprintf(buf, sizeof(buf), "\t\n");
		break;
	default: /* one value split over two writes: each stands alone */
		len = snprintf(buf, sizeof(buf), "%llu", v);
		if (len > 1) {
			busy = running(s);
			err = write_raw(p, buf, 1);
			judge(s, k->name, "first byte", predict(buf, 1, k), busy, err, 0);
			memmove(buf, buf + 1, len--);
		}
		break;
	}
	snprintf(what, sizeof(what), "%.*s", len < 40 ? len : 40, buf);
	for (i = 0; what[i]; i++)
		if (what[i] < 32 || what[i] > 126)
			what[i] = '?';
	busy = running(s);
	err = write_raw(p, buf, len);
	judge(s, k->name, what, predict(buf, len, k), busy, err, 0);
}

static void fuzz_variant(const struct scenario *s)
{
	char p[128], buf[64];
	int busy, err, valid = rnd(2) && s->nclean;

	path(p, sizeof(p), s, "variant");
	if (valid)
		snprintf(buf, sizeof(buf), "%s\n", s->clean[rnd(s->nclean)]);
	else
		snprintf(buf, sizeof(buf), "no_such_variant_%u", rnd(1000));
	busy = running(s);
	err = write_raw(p, buf, strlen(buf));
	judge(s, "variant", buf, valid, busy, err, 0);
}

/* Start a short clean run, or stop, or write garbage to run. */
static void fuzz_run(const struct scenario *s)
{
	char p[128], v[128];
	int busy, err;

	if (!s->nclean)
		return;
	busy = running(s);
	if (!busy && rnd(2)) {
		path(p, sizeof(p), s, "variant");
		/* Only ever run a clean variant: select one first. */
		snprintf(v, sizeof(v), "%s", s->clean[rnd(s->nclean)]);
		if (write_raw(p, v, strlen(v)))
			return;
		path(p, sizeof(p), s, "duration_ms");
		write_raw(p, "200", 3);
		path(p, sizeof(p), s, "run");
		err = write_raw(p, "1", 1);
		judge(s, "run", "1", 1, running(s) && err, err, 0);
		return;
	}
	path(p, sizeof(p), s, "run");
	if (rnd(2)) {
		err = write_raw(p, "0", 1);
		judge(s, "run", "0", 1, busy, err, 1);
	} else {
		err = write_raw(p, "yes please", 10);
		judge(s, "run", "yes please", 0, busy, err, 0);
	}
}

static void stop_all(void)
{
	char p[128];
	int i;

	for (i = 0; i < nsc; i++) {
		path(p, sizeof(p), &sc[i], "run");
		write_raw(p, "0", 1);
	}
}

/* After all that, the plain path must still work. */
static int valid_after(void)
{
	char p[128], b[64];
	const struct scenario *s = NULL;
	int i, t;

	for (i = 0; i < nsc; i++)
		if (!strcmp(sc[i].name, "selftest"))
			s = &sc[i];
	if (!s)
		return -1;
	path(p, sizeof(p), s, "variant");
	if (write_raw(p, "clean", 5))
		return -1;
	path(p, sizeof(p), s, "contexts");
	write_raw(p, "0", 1);
	path(p, sizeof(p), s, "period_us");
	write_raw(p, "1000", 4);
	path(p, sizeof(p), s, "burst");
	write_raw(p, "4", 1);
	path(p, sizeof(p), s, "threads");
	write_raw(p, "0", 1);
	path(p, sizeof(p), s, "duration_ms");
	if (write_raw(p, "500", 3))
		return -1;
	path(p, sizeof(p), s, "run");
	if (write_raw(p, "1", 1))
		return -1;
	for (t = 0; t < 600 && running(s); t++)
		usleep(100000);
	path(p, sizeof(p), s, "result");
	return read_file(p, b, sizeof(b)) || strncmp(b, "ok", 2) ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long writes = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
	unsigned int seed = argc > 2 ? strtoul(argv[2], NULL, 0) : (unsigned int)time(NULL);
	unsigned long i;
	char sum[160];
	pid_t child;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	srandom(seed);
	if (load()) {
		printf("mmrace-test: not ok fuzz_setup (cannot read " D ")\n");
		return 1;
	}
	child = fork();
	if (child == 0) {
		reader();
		_exit(0);
	}
	for (i = 0; n_writes < writes; i++) {
		const struct scenario *s = &sc[rnd(nsc)];
		unsigned int what = rnd(100);

		if (what < 85)
			fuzz_knob(s);
		else if (what < 95)
			fuzz_variant(s);
		else
			fuzz_run(s);
	}
	stop_all();
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	snprintf(sum, sizeof(sum), "%llu writes, seed %u: %llu accepted, %llu EINVAL, %llu EBUSY",
		 n_writes, seed, n_ok, n_einval, n_ebusy);
	printf("mmrace-test: %s fuzz_writes (%s, %llu unexpected)\n",
	       n_bad ? "not ok" : "ok", sum, n_bad);
	printf("mmrace-test: %s fuzz_valid_write_after\n", valid_after() ? "not ok" : "ok");
	return 0;
}
