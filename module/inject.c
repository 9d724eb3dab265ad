// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe delays: widen a race window without editing the code under
 * test.  A probe on any symbol (mmrace's own or the kernel's) delays the
 * probed instruction by udelay(), with a probability, so the window
 * between, say, the xchg and the WRITE_ONCE of next in defer_free is
 * hit on demand.
 *
 *   echo "<symbol>[+off] <delay_us> [<percent>]" > inject   add
 *   echo "-<symbol>" > inject                               remove one
 *   echo clear > inject                                     remove all
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/delay.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include "harness.h"

#define MMRACE_MAX_PROBES	4
#define MMRACE_MAX_DELAY_US	10000
#define MMRACE_SYM_LEN		64

struct mmrace_probe {
	struct kprobe kp;
	char sym[MMRACE_SYM_LEN];
	unsigned int delay_us;
	unsigned int percent;
	atomic_long_t hits;
	bool active;
};

/* Serialises register/unregister; the handlers never take it. */
static DEFINE_MUTEX(mmrace_inject_lock);
static struct mmrace_probe mmrace_probes[MMRACE_MAX_PROBES];

static int mmrace_probe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mmrace_probe *p = container_of(kp, struct mmrace_probe, kp);

	/*
	 * A kprobe handler runs like an NMI: get_random_*() would take
	 * base_crng.lock there, which lockdep rightly calls inconsistent
	 * (mmrace's own fuzzing found it).
	 */
	if (mmrace_rand_below(100) < p->percent) {
		atomic_long_inc(&p->hits);
		udelay(p->delay_us);
	}
	return 0;
}

static void mmrace_probe_del(struct mmrace_probe *p)
{
	if (!p->active)
		return;
	unregister_kprobe(&p->kp);
	pr_info("inject: removed %s after %ld delays\n", p->sym,
		atomic_long_read(&p->hits));
	p->active = false;
}

static int mmrace_probe_add(char *spec)
{
	char *sym = strsep(&spec, " \t"), *off;
	unsigned int delay, percent = 100, offset = 0, i;
	struct mmrace_probe *p = NULL;
	int ret;

	if (!spec || sscanf(spec, "%u %u", &delay, &percent) < 1 ||
	    !delay || delay > MMRACE_MAX_DELAY_US || percent > 100 ||
	    strlen(sym) >= MMRACE_SYM_LEN) {
		pr_warn("inject: accepted: '<symbol>[+off] <delay_us 1..%d> [<percent 0..100>]', '-<symbol>', 'clear'\n",
			MMRACE_MAX_DELAY_US);
		return -EINVAL;
	}
	off = strchr(sym, '+');
	if (off) {
		*off++ = '\0';
		if (kstrtouint(off, 0, &offset)) {
			pr_warn("inject: offset '%*pE' is not a number\n",
				(int)strlen(off), off);
			return -EINVAL;
		}
	}
	for (i = 0; i < MMRACE_MAX_PROBES; i++) {
		if (mmrace_probes[i].active && !strcmp(mmrace_probes[i].sym, sym)) {
			pr_warn("inject: %s already probed; '-%s' removes it\n",
				sym, sym);
			return -EEXIST;
		}
		if (!mmrace_probes[i].active && !p)
			p = &mmrace_probes[i];
	}
	if (!p) {
		pr_warn("inject: all %d probes in use\n", MMRACE_MAX_PROBES);
		return -ENOSPC;
	}
	memset(p, 0, sizeof(*p));
	strscpy(p->sym, sym, sizeof(p->sym));
	p->kp.symbol_name = p->sym;
	p->kp.offset = offset;
	p->kp.pre_handler = mmrace_probe_pre;
	p->delay_us = delay;
	p->percent = percent;
	ret = register_kprobe(&p->kp);
	if (ret) {
		pr_warn("inject: cannot probe %s+%u: %d\n", sym, offset, ret);
		return ret == -ENOENT ? -EINVAL : ret;
	}
	p->active = true;
	pr_info("inject: %s+%u delays %u us in %u%% of hits\n", sym, offset,
		delay, percent);
	return 0;
}

int mmrace_inject_set(const char *spec)
{
	char buf[MMRACE_SYM_LEN * 2];
	unsigned int i;
	int ret = -ENOENT;

	strscpy(buf, spec, sizeof(buf));
	mutex_lock(&mmrace_inject_lock);
	if (!strcmp(buf, "clear")) {
		for (i = 0; i < MMRACE_MAX_PROBES; i++)
			mmrace_probe_del(&mmrace_probes[i]);
		ret = 0;
	} else if (buf[0] == '-') {
		for (i = 0; i < MMRACE_MAX_PROBES; i++) {
			if (mmrace_probes[i].active &&
			    !strcmp(mmrace_probes[i].sym, buf + 1)) {
				mmrace_probe_del(&mmrace_probes[i]);
				ret = 0;
			}
		}
		if (ret)
			pr_warn("inject: no probe on '%*pE'\n",
				(int)strlen(buf + 1), buf + 1);
		ret = ret ? -EINVAL : 0;
	} else {
		ret = mmrace_probe_add(buf);
	}
	mutex_unlock(&mmrace_inject_lock);
	return ret;
}

void mmrace_inject_show(struct seq_file *m)
{
	unsigned int i;

	mutex_lock(&mmrace_inject_lock);
	for (i = 0; i < MMRACE_MAX_PROBES; i++) {
		struct mmrace_probe *p = &mmrace_probes[i];

		if (p->active)
			seq_printf(m, "%s+%u %u %u hits=%ld\n", p->sym,
				   (unsigned int)p->kp.offset, p->delay_us,
				   p->percent, atomic_long_read(&p->hits));
	}
	mutex_unlock(&mmrace_inject_lock);
}

void mmrace_inject_clear(void)
{
	mmrace_inject_set("clear");
}
