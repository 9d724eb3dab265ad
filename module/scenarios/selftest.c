// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's own smoke test.  "lockdep" takes one lock from task
 * context with IRQs on and from hardirq (irq_work): lockdep must report
 * an inconsistent lock state naming mmrace_selftest_lock, end to end
 * through the console judge.  "clean" takes it IRQ-safe everywhere and
 * must come out clean with every context's work counted.
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include "../mmrace.h"

struct selftest {
	spinlock_t lock;	/* mmrace_selftest_lock: guards @count */
	u64 count;
};

enum { ST_LOCKED, ST_BUSY, ST_NR };

static const struct mmrace_stat selftest_stats[ST_NR] = {
	[ST_LOCKED] = { "locked", MMRACE_SUM },
	[ST_BUSY] = { "irq_trylock_busy", MMRACE_SUM },
};

static int selftest_setup(struct mmrace_run *r)
{
	struct selftest *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mmrace_spin_lock_init(r, &st->lock, "mmrace_selftest_lock");
	r->priv = st;
	return 0;
}

static void selftest_op(struct mmrace_run *r, enum mmrace_ctx ctx)
{
	struct selftest *st = r->priv;
	unsigned long flags;

	if (mmrace_variant_is(r, "lockdep")) {
		/*
		 * Deliberately wrong: HARDIRQ-ON-W in task context,
		 * IN-HARDIRQ-W from irq_work.
		 */
		if (ctx == MMRACE_CTX_TASK) {
			spin_lock(&st->lock);
		} else if (!mmrace_irq_spin_lock(&st->lock)) {
			mmrace_stat_inc(r, ST_BUSY);
			return;
		}
		st->count++;
		spin_unlock(&st->lock);
	} else {
		spin_lock_irqsave(&st->lock, flags);
		st->count++;
		spin_unlock_irqrestore(&st->lock, flags);
	}
	mmrace_stat_inc(r, ST_LOCKED);
}

static int selftest_check(struct mmrace_run *r)
{
	struct selftest *st = r->priv;
	u64 locked = mmrace_stat_read(r, ST_LOCKED);

	if (st->count != locked) {
		mmrace_invariant(r, "count %llu != %llu lock sections",
				 st->count, locked);
		return -EIO;
	}
	return 0;
}

static void selftest_teardown(struct mmrace_run *r)
{
	kfree(r->priv);
	r->priv = NULL;
}

static const struct mmrace_variant selftest_variants[] = {
	{ "clean", "clean", "lock taken IRQ-safe from every context" },
	{ "lockdep", "lockdep:inconsistent lock state",
	  "lock taken with IRQs on in task context and from hardirq",
	  .duration_ms = 2000 },
};

const struct mmrace_scenario mmrace_selftest = {
	.name = "selftest",
	.doc = "the harness's own smoke test",
	.variants = selftest_variants,
	.nr_variants = ARRAY_SIZE(selftest_variants),
	.stats = selftest_stats,
	.nr_stats = ARRAY_SIZE(selftest_stats),
	.contexts = MMRACE_CTX_ALL,
	.min_ops = 1000,
	.duration_ms = 2000,
	.setup = selftest_setup,
	.op = selftest_op,
	.check = selftest_check,
	.teardown = selftest_teardown,
};
