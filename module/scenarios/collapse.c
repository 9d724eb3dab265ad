// SPDX-License-Identifier: GPL-2.0
/*
 * collapse: khugepaged collapsing small page-cache pages into a huge one
 * with the new page's refcount frozen (linux-mm, Nov 2018, Hugh Dickins,
 * "mm/khugepaged: collapse_shmem() without freezing new_page"; landed as
 * 87c460a0bded, fixing f3f0e1d2150b2 of 4.8).
 *
 * A private page cache: an XArray of descriptors for a private file,
 * "ranges" aligned ranges of "pages" small pages each.  One collapse
 * thread plays khugepaged: it allocates the new page, walks the range
 * replacing each small entry with the new page, swaps in the entries
 * that are out on swap with deliberately slow work, copies and
 * publishes, or rolls back half-way when told to.  On its next visit it
 * splits the huge page again (and swaps the tail back out), so that the
 * collapse repeats for the whole run.  Readers on every CPU do what
 * find_get_entry() did: RCU lookup, get unless zero, retry on failure,
 * re-check the slot, and on a page that is not uptodate the slow path.
 *
 *   freeze   before the fix: the new page sits in the tree with its
 *            refcount frozen at 0 for the whole collapse; readers spin
 *            on it while the collapse sleeps.  With a reader on every
 *            CPU the collapse cannot even get back on a CPU to finish:
 *            soft lockup (or, for windows too short for it, mmrace's
 *            spin watchdog)
 *   lock     the fix: the new page is locked and not uptodate, refcount
 *            normal; readers take a reference and wait for the lock
 *            (IRQ contexts back off); spins stay under spin_bound_ms
 *
 * In both, the old pages stay frozen once out of the tree, until they
 * are freed on success or put back and unfrozen on failure, and the
 * check wants every index mapped to one page with the right data and
 * its base refcount.
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/wait.h>
#include <linux/bitops.h>
#include "../mmrace.h"

struct col_policy {
	bool freeze;		/* page_ref_freeze(new_page, 1) at the start */
};

/* Data words per small page: enough to tell one index from another. */
#define COL_WORDS	8

/* Page flags, as bits of col_page.flags. */
enum { COL_LOCKED, COL_UPTODATE };

/*
 * A page-cache page: one small page (nr == 1) or a huge one covering nr
 * indices from @index.  The cache holds one reference per index the
 * page is mapped at (a huge page nr, as after page_ref_add(HPAGE_PMD_NR
 * - 1)); readers hold more for the length of a lookup.  Freed an RCU
 * grace period after the last put: readers find it under RCU only.
 */
struct col_page {
	atomic_t ref;
	unsigned long flags;
	unsigned long index;
	unsigned int nr;
	struct rcu_head rcu;
	u64 data[];		/* nr * COL_WORDS */
};

struct col {
	struct mmrace_run *r;
	const struct col_policy *pol;
	unsigned int nr;		/* small pages per huge page */
	unsigned int ranges;
	unsigned long size;		/* nr * ranges indices */
	struct xarray xa;		/* the private file's page cache */
	wait_queue_head_t lock_wq;	/* waiters for COL_LOCKED to clear */
	atomic_t live;			/* descriptors allocated, not freed */
	atomic_t watchdog_fired;
	struct col_page **old;		/* the collapse's old pages, by offset */
	struct task_struct *khugepaged;
	u64 attempts;
};

enum {
	COL_COLLAPSED, COL_FAILED, COL_FAILED_INJECTED, COL_FAILED_BUSY,
	COL_FAILED_STOP, COL_SPLITS, COL_SWAPINS, COL_LOOKUPS, COL_SWAPPED,
	COL_RELOAD_MISS, COL_WAITS, COL_BACKOFF, COL_GIVEUPS, COL_BAD_DATA,
	COL_MAX_SPIN_ITERS, COL_MAX_SPIN_US, COL_WATCHDOG_MS,
	COL_HIST_1, COL_HIST_16, COL_HIST_256, COL_HIST_4K, COL_HIST_64K,
	COL_HIST_1M, COL_HIST_MORE, COL_NR
};

static const struct mmrace_stat col_stats[COL_NR] = {
	[COL_COLLAPSED] = { "collapsed", MMRACE_SUM },
	[COL_FAILED] = { "collapse_failed", MMRACE_SUM },
	[COL_FAILED_INJECTED] = { "collapse_failed_injected", MMRACE_SUM },
	[COL_FAILED_BUSY] = { "collapse_failed_busy", MMRACE_SUM },
	[COL_FAILED_STOP] = { "collapse_failed_stop", MMRACE_SUM },
	[COL_SPLITS] = { "splits", MMRACE_SUM },
	[COL_SWAPINS] = { "swapins", MMRACE_SUM },
	[COL_LOOKUPS] = { "lookups", MMRACE_SUM },
	[COL_SWAPPED] = { "lookup_swapped", MMRACE_SUM },
	[COL_RELOAD_MISS] = { "reload_miss", MMRACE_SUM },
	[COL_WAITS] = { "reader_lock_waits", MMRACE_SUM },
	[COL_BACKOFF] = { "reader_backoff", MMRACE_SUM },
	[COL_GIVEUPS] = { "spin_giveups", MMRACE_SUM },
	[COL_BAD_DATA] = { "bad_data", MMRACE_SUM },
	[COL_MAX_SPIN_ITERS] = { "max_spin_iters", MMRACE_MAX },
	[COL_MAX_SPIN_US] = { "max_spin_us", MMRACE_MAX },
	[COL_WATCHDOG_MS] = { "spin_watchdog_threshold_ms", MMRACE_MAX },
	[COL_HIST_1] = { "spin_hist_le_1", MMRACE_SUM },
	[COL_HIST_16] = { "spin_hist_le_16", MMRACE_SUM },
	[COL_HIST_256] = { "spin_hist_le_256", MMRACE_SUM },
	[COL_HIST_4K] = { "spin_hist_le_4k", MMRACE_SUM },
	[COL_HIST_64K] = { "spin_hist_le_64k", MMRACE_SUM },
	[COL_HIST_1M] = { "spin_hist_le_1m", MMRACE_SUM },
	[COL_HIST_MORE] = { "spin_hist_gt_1m", MMRACE_SUM },
};

enum {
	COL_K_PAGES, COL_K_RANGES, COL_K_SWAPPED, COL_K_SLOW_MS, COL_K_FAIL_AT,
	COL_K_FAIL_EVERY, COL_K_WATCHDOG_MS, COL_K_GIVEUP_MS, COL_K_BOUND_MS,
	COL_K_ATOMIC_SPIN_US,
};

/*
 * The spin watchdog waits longer than the soft lockup detector (2 *
 * watchdog_thresh, 4 s in the guest, seen at ~6 s under TCG), so that
 * the kernel's own detector speaks first when it can; the give-up stays
 * under the 21 s RCU stall timeout so that grace periods still end.
 */
static const struct mmrace_knob col_knobs[] = {
	[COL_K_PAGES] = { "pages", 16, 2, 512, "small pages per huge page" },
	[COL_K_RANGES] = { "ranges", 4, 1, 64, "huge-page ranges in the file" },
	[COL_K_SWAPPED] = { "swapped", 1, 0, 512,
		"tail pages of a range out on swap after a split (each swap-in is slow)" },
	[COL_K_SLOW_MS] = { "slow_ms", 300, 0, 60000,
		"sleep per swap-in, standing in for swap I/O and reclaim" },
	[COL_K_FAIL_AT] = { "fail_at", 8, 0, 512,
		"injected failures roll back after this many subpages (0: never)" },
	[COL_K_FAIL_EVERY] = { "fail_every", 3, 0, 1000,
		"inject a failure into every Nth collapse (0: never)" },
	[COL_K_WATCHDOG_MS] = { "spin_watchdog_ms", 9000, 1, 600000,
		"a reader spinning this long on one lookup is reported once" },
	[COL_K_GIVEUP_MS] = { "spin_giveup_ms", 12000, 1, 600000,
		"a task reader stops spinning after this long (keeps the guest alive)" },
	[COL_K_BOUND_MS] = { "spin_bound_ms", 500, 1, 600000,
		"longest reader spin a clean run may show" },
	[COL_K_ATOMIC_SPIN_US] = { "atomic_spin_us", 50, 1, 100000,
		"readers in IRQ contexts back off after spinning this long" },
};

static u64 col_pattern(unsigned long index, unsigned int w)
{
	return ((u64)index << 32 | w) ^ 0xc0115a9e00000000ULL;
}

static struct col_page *col_alloc(struct col *c, unsigned long index,
				  unsigned int nr)
{
	struct col_page *p;

	p = kzalloc(struct_size(p, data, (size_t)nr * COL_WORDS), GFP_KERNEL);
	if (!p)
		return NULL;
	atomic_set(&p->ref, 1);
	p->index = index;
	p->nr = nr;
	atomic_inc(&c->live);
	return p;
}

static void col_fill(struct col_page *p)
{
	unsigned int i, w;

	for (i = 0; i < p->nr; i++)
		for (w = 0; w < COL_WORDS; w++)
			p->data[i * COL_WORDS + w] = col_pattern(p->index + i, w);
}

/* Readers may still hold the pointer from an RCU lookup: defer. */
static void col_free(struct col *c, struct col_page *p)
{
	atomic_dec(&c->live);
	kfree_rcu(p, rcu);
}

static void col_put_many(struct col *c, struct col_page *p, unsigned int n)
{
	if (atomic_sub_and_test(n, &p->ref))
		col_free(c, p);
}

static void col_put(struct col *c, struct col_page *p)
{
	col_put_many(c, p, 1);
}

/* unlock_page(): release the bit, then wake whoever waits for it. */
static void col_unlock(struct col *c, struct col_page *p)
{
	clear_bit_unlock(COL_LOCKED, &p->flags);
	/* The bit clear before waitqueue_active() in wake_up_all's check. */
	smp_mb__after_atomic();
	wake_up_all(&c->lock_wq);
}

/* Readers see the data only after the bit: written before it. */
static void col_mark_uptodate(struct col_page *p)
{
	/* Pairs with test_bit_acquire() in col_op(). */
	smp_mb__before_atomic();
	set_bit(COL_UPTODATE, &p->flags);
}

static void col_spin_note(struct col *c, u64 spins, u64 ns)
{
	static const u64 le[] = { 1, 16, 256, 4096, 65536, 1048576 };
	unsigned int b;

	if (!spins)
		return;
	for (b = 0; b < ARRAY_SIZE(le) && spins > le[b]; b++)
		;
	mmrace_stat_inc(c->r, COL_HIST_1 + b);
	mmrace_stat_max(c->r, COL_MAX_SPIN_ITERS, spins);
	mmrace_stat_max(c->r, COL_MAX_SPIN_US, div_u64(ns, NSEC_PER_USEC));
}

/* mmrace's own detector, for windows too short for the soft lockup. */
static void col_spin_watchdog(struct col *c, unsigned long index, u64 spins,
			      u64 ns)
{
	u64 ms = mmrace_knob(c->r, COL_K_WATCHDOG_MS);

	if (ns < ms * NSEC_PER_MSEC || atomic_xchg(&c->watchdog_fired, 1))
		return;
	mmrace_invariant(c->r,
			 "reader spun %llu ms (%llu retries) on a frozen page at index %lu (spin watchdog threshold %llu ms)",
			 div_u64(ns, NSEC_PER_MSEC), spins, index, ms);
}

enum col_lookup { COL_FOUND, COL_NONE, COL_GAVE_UP };

/*
 * find_get_entry() as of 2018: RCU lookup, page_cache_get_speculative(),
 * "goto repeat" when that fails, and a re-check of the slot.  Nothing in
 * it expects the refcount to stay at zero for long: it spins.
 *
 * The caller has preemption disabled: in 2018 this ran on !PREEMPT
 * kernels (rcu_read_lock() did not even disable preemption, none was
 * possible), and on the PREEMPT debug kernel a preemptible spinner would
 * simply let the collapse run and hide the lockup.  A task reader gives
 * up after spin_giveup_ms, so that the run can still be stopped when
 * every CPU spins; readers in IRQ contexts back off much sooner.
 */
static enum col_lookup col_find_get(struct col *c, unsigned long index,
				    bool atomic_ctx, struct col_page **pagep)
{
	struct mmrace_run *r = c->r;
	u64 spins = 0, t0 = 0, ns = 0, limit_ns;
	enum col_lookup ret = COL_FOUND;
	struct col_page *p;
	void *entry;

	if (atomic_ctx)
		limit_ns = mmrace_knob(r, COL_K_ATOMIC_SPIN_US) * NSEC_PER_USEC;
	else
		limit_ns = mmrace_knob(r, COL_K_GIVEUP_MS) * NSEC_PER_MSEC;

	rcu_read_lock();
repeat:
	entry = xa_load(&c->xa, index);
	/* Out on swap: find_get_entry() returns the swap entry, no page. */
	if (!entry || xa_is_value(entry)) {
		mmrace_stat_inc(r, COL_SWAPPED);
		ret = COL_NONE;
		goto out;
	}
	p = entry;
	if (!atomic_add_unless(&p->ref, 1, 0)) {
		if (!spins++)
			t0 = local_clock();
		/* local_clock() is cheap, but not free: look now and then. */
		if (!(spins & 255)) {
			ns = local_clock() - t0;
			col_spin_watchdog(c, index, spins, ns);
			if (ns >= limit_ns || mmrace_stopping(r)) {
				mmrace_stat_inc(r, atomic_ctx ? COL_BACKOFF :
						COL_GIVEUPS);
				ret = COL_GAVE_UP;
				goto out;
			}
		}
		cpu_relax();
		goto repeat;
	}
	/* The slot may have changed under us: the page is not ours then. */
	if (unlikely(entry != xa_load(&c->xa, index))) {
		mmrace_stat_inc(r, COL_RELOAD_MISS);
		col_put(c, p);
		goto repeat;
	}
	*pagep = p;
out:
	rcu_read_unlock();
	if (spins)
		ns = local_clock() - t0;
	col_spin_note(c, spins, ns);
	return ret;
}

static void col_verify(struct col *c, struct col_page *p, unsigned long index)
{
	unsigned int off = index - p->index, w;

	if (index < p->index || off >= p->nr) {
		mmrace_stat_inc(c->r, COL_BAD_DATA);
		mmrace_invariant(c->r, "index %lu found a page for %lu..%lu",
				 index, p->index, p->index + p->nr - 1);
		return;
	}
	for (w = 0; w < COL_WORDS; w++) {
		u64 v = READ_ONCE(p->data[off * COL_WORDS + w]);

		if (v == col_pattern(index, w))
			continue;
		if (mmrace_stat_read(c->r, COL_BAD_DATA) < 3)
			mmrace_invariant(c->r, "index %lu word %u reads %#llx, want %#llx",
					 index, w, v, col_pattern(index, w));
		mmrace_stat_inc(c->r, COL_BAD_DATA);
		return;
	}
}

/* A read of one index: lookup, then the data if it is uptodate. */
static void col_op(struct mmrace_run *r, enum mmrace_ctx ctx)
{
	struct col *c = r->priv;
	bool can_sleep = ctx == MMRACE_CTX_TASK || ctx == MMRACE_CTX_WQ;
	unsigned long index = mmrace_rand_below(c->size);
	enum col_lookup found;
	struct col_page *p;

	mmrace_stat_inc(r, COL_LOOKUPS);
	for (;;) {
		preempt_disable();
		found = col_find_get(c, index, !can_sleep, &p);
		preempt_enable();
		if (found != COL_FOUND)
			return;
		if (test_bit_acquire(COL_UPTODATE, &p->flags))
			break;
		/*
		 * Locked and not uptodate: a collapse is building it.  Wait
		 * for the lock (lock_page() in the fault path) and look
		 * again, since a failed collapse takes the page back out of
		 * the cache.  An IRQ cannot wait: it backs off.
		 */
		if (!can_sleep) {
			mmrace_stat_inc(r, COL_BACKOFF);
			col_put(c, p);
			return;
		}
		mmrace_stat_inc(r, COL_WAITS);
		/* TASK_IDLE: a wait as long as slow_ms is not a hung task. */
		wait_event_idle_timeout(c->lock_wq,
					!test_bit(COL_LOCKED, &p->flags) ||
					mmrace_stopping(r), HZ);
		col_put(c, p);
		if (mmrace_stopping(r))
			return;
	}
	col_verify(c, p, index);
	col_put(c, p);
}

/*
 * shmem_getpage() bringing a page back from swap, with the reclaim it
 * may need: slow, sleeping, and done while the new page is already in
 * the tree for the indices before this one.
 */
static struct col_page *col_swapin(struct col *c, unsigned long index)
{
	struct mmrace_run *r = c->r;
	u64 end = local_clock() + mmrace_knob(r, COL_K_SLOW_MS) * NSEC_PER_MSEC;
	struct col_page *p;
	u64 now;

	while ((now = local_clock()) < end) {
		if (mmrace_stopping(r))
			return NULL;
		/* TASK_IDLE, not msleep(): slow_ms may exceed hung_task's. */
		now = div_u64(end - now, NSEC_PER_MSEC) + 1;
		schedule_timeout_idle(msecs_to_jiffies(min_t(u64, 10, now)));
	}
	p = col_alloc(c, index, 1);
	if (!p)
		return NULL;
	col_fill(p);
	col_mark_uptodate(p);
	/* Locked and frozen like a present page after isolation. */
	__set_bit(COL_LOCKED, &p->flags);
	atomic_set(&p->ref, 0);
	mmrace_stat_inc(r, COL_SWAPINS);
	return p;
}

/*
 * page_ref_freeze(page, 1): only the cache's reference may remain.  A
 * reader holds its reference for a few loads only: a short bounded wait
 * under xa_lock, then fail as collapse_shmem() does (SCAN_PAGE_COUNT).
 */
static bool col_freeze_old(struct col_page *p)
{
	unsigned int tries;

	for (tries = 0; tries < 10000; tries++) {
		if (atomic_cmpxchg(&p->ref, 1, 0) == 1)
			return true;
		cpu_relax();
	}
	return false;
}

/*
 * Failure half-way: put the old pages back where the new page was and
 * unfreeze them, all under xa_lock, so that no reader meets an old page
 * that is back in the tree but still frozen (a spinner on every CPU
 * would keep the collapse from ever getting here).
 */
static void col_rollback(struct col *c, struct col_page *newp,
			 unsigned int done)
{
	unsigned int i;

	xa_lock(&c->xa);
	for (i = 0; i < done; i++) {
		struct col_page *old = c->old[i];

		__xa_store(&c->xa, newp->index + i, old, GFP_ATOMIC);
		atomic_set_release(&old->ref, 1);
		clear_bit_unlock(COL_LOCKED, &old->flags);
	}
	xa_unlock(&c->xa);
	/* page_ref_unfreeze(new_page, 1) was in the failure path before 87c460a0bded. */
	if (c->pol->freeze)
		atomic_set_release(&newp->ref, 1);
	/* Waiters find the page unlocked, drop it and look again. */
	col_unlock(c, newp);
	col_put(c, newp);
}

/* collapse_shmem() on the range from @start. */
static void col_collapse(struct col *c, unsigned long start, bool inject)
{
	struct mmrace_run *r = c->r;
	unsigned int fail_at = inject ? mmrace_knob(r, COL_K_FAIL_AT) : 0;
	unsigned int i, w, done = 0;
	struct col_page *newp;
	int stat = 0;

	newp = col_alloc(c, start, c->nr);
	if (!newp)
		return;
	/* Locked and not uptodate: enough to keep readers off the data. */
	__set_bit(COL_LOCKED, &newp->flags);
	/* The bug: nobody can get a reference until it is unfrozen. */
	if (c->pol->freeze)
		atomic_set(&newp->ref, 0);

	for (i = 0; i < c->nr; i++) {
		unsigned long index = start + i;
		void *entry = xa_load(&c->xa, index);
		struct col_page *old;

		/* Only this thread changes the tree: @entry stays. */
		if (xa_is_value(entry)) {
			old = col_swapin(c, index);
			if (!old) {
				stat = COL_FAILED_STOP;
				break;
			}
			xa_lock(&c->xa);
		} else {
			old = entry;
			xa_lock(&c->xa);
			/* Nobody else locks cache pages: trylock cannot fail. */
			WARN_ON_ONCE(test_and_set_bit_lock(COL_LOCKED, &old->flags));
			if (!col_freeze_old(old)) {
				clear_bit_unlock(COL_LOCKED, &old->flags);
				xa_unlock(&c->xa);
				stat = COL_FAILED_BUSY;
				break;
			}
		}
		c->old[i] = old;
		__xa_store(&c->xa, index, newp, GFP_ATOMIC);
		xa_unlock(&c->xa);
		done = i + 1;
		if (done == fail_at) {
			stat = COL_FAILED_INJECTED;
			break;
		}
		cond_resched();
	}
	if (stat) {
		col_rollback(c, newp, done);
		mmrace_stat_inc(r, COL_FAILED);
		mmrace_stat_inc(r, stat);
		return;
	}

	/* Old pages are frozen and out of the tree: their data is stable. */
	for (i = 0; i < c->nr; i++)
		for (w = 0; w < COL_WORDS; w++)
			newp->data[i * COL_WORDS + w] =
				c->old[i]->data[w];
	col_mark_uptodate(newp);
	if (c->pol->freeze)
		atomic_set_release(&newp->ref, c->nr);	/* page_ref_unfreeze */
	else
		atomic_add(c->nr - 1, &newp->ref);	/* page_ref_add */
	col_unlock(c, newp);
	/* Frozen at 0: no reader can take them any more. */
	for (i = 0; i < c->nr; i++)
		col_free(c, c->old[i]);
	mmrace_stat_inc(r, COL_COLLAPSED);
}

/*
 * Undo a collapse so that the next one has work: small pages again,
 * the tail back out on swap.  Readers still holding the huge page keep
 * it, with the same data, until they drop it.
 */
static void col_split(struct col *c, struct col_page *huge)
{
	unsigned int swapped = min_t(u64, mmrace_knob(c->r, COL_K_SWAPPED),
				     c->nr);
	unsigned int i, w;

	for (i = 0; i < c->nr - swapped; i++) {
		struct col_page *p = col_alloc(c, huge->index + i, 1);

		if (!p)
			goto undo;
		for (w = 0; w < COL_WORDS; w++)
			p->data[w] = huge->data[i * COL_WORDS + w];
		col_mark_uptodate(p);
		c->old[i] = p;
	}
	xa_lock(&c->xa);
	for (i = 0; i < c->nr; i++) {
		unsigned long index = huge->index + i;

		__xa_store(&c->xa, index, i < c->nr - swapped ? c->old[i] :
			   xa_mk_value(index), GFP_ATOMIC);
	}
	xa_unlock(&c->xa);
	col_put_many(c, huge, c->nr);
	mmrace_stat_inc(c->r, COL_SPLITS);
	return;
undo:
	while (i--)
		col_put(c, c->old[i]);
}

static int col_khugepaged(void *arg)
{
	struct col *c = arg;
	struct mmrace_run *r = c->r;
	unsigned int range = 0;

	while (!kthread_should_stop()) {
		unsigned long start = (unsigned long)range * c->nr;
		struct col_page *p;
		void *entry;
		bool inject;

		if (mmrace_stopping(r)) {
			schedule_timeout_idle(1);
			continue;
		}
		range = (range + 1) % c->ranges;
		entry = xa_load(&c->xa, start);
		p = xa_is_value(entry) ? NULL : entry;
		if (p && p->nr > 1) {
			col_split(c, p);
		} else {
			c->attempts++;
			inject = mmrace_knob(r, COL_K_FAIL_EVERY) &&
				 !(c->attempts % mmrace_knob(r, COL_K_FAIL_EVERY));
			col_collapse(c, start, inject);
		}
		cond_resched();
	}
	return 0;
}

static void col_teardown(struct mmrace_run *r)
{
	struct col *c = r->priv;
	struct col_page *p;
	unsigned long index;
	void *entry;

	if (!c)
		return;
	if (c->khugepaged)
		kthread_stop(c->khugepaged);
	/* Readers are gone: free each page at the first index it covers. */
	xa_for_each(&c->xa, index, entry) {
		if (xa_is_value(entry))
			continue;
		p = entry;
		if (index == p->index)
			kfree(p);
	}
	xa_destroy(&c->xa);
	kfree(c->old);
	kfree(c);
	r->priv = NULL;
}

static int col_setup(struct mmrace_run *r)
{
	unsigned int swapped;
	unsigned long index;
	struct col *c;
	int ret = -ENOMEM;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	r->priv = c;
	c->r = r;
	c->pol = r->var->data;
	c->nr = mmrace_knob(r, COL_K_PAGES);
	c->ranges = mmrace_knob(r, COL_K_RANGES);
	c->size = (unsigned long)c->nr * c->ranges;
	swapped = min_t(u64, mmrace_knob(r, COL_K_SWAPPED), c->nr);
	xa_init(&c->xa);
	init_waitqueue_head(&c->lock_wq);
	mmrace_stat_max(r, COL_WATCHDOG_MS, mmrace_knob(r, COL_K_WATCHDOG_MS));
	c->old = kcalloc(c->nr, sizeof(*c->old), GFP_KERNEL);
	if (!c->old)
		goto fail;

	/* Every range starts small, its tail out on swap, as after a split. */
	for (index = 0; index < c->size; index++) {
		void *entry = xa_mk_value(index);

		if (index % c->nr < c->nr - swapped) {
			struct col_page *p = col_alloc(c, index, 1);

			if (!p)
				goto fail;
			col_fill(p);
			col_mark_uptodate(p);
			entry = p;
		}
		ret = xa_err(xa_store(&c->xa, index, entry, GFP_KERNEL));
		if (ret) {
			if (!xa_is_value(entry))
				kfree(entry);
			goto fail;
		}
	}
	c->khugepaged = kthread_run(col_khugepaged, c, "mmrace/khugepaged");
	if (IS_ERR(c->khugepaged)) {
		ret = PTR_ERR(c->khugepaged);
		c->khugepaged = NULL;
		goto fail;
	}
	return 0;
fail:
	/* The core tears down only what set up successfully. */
	col_teardown(r);
	return ret;
}

/* Readers are stopped: let the collapse finish or roll back, and go. */
static void col_stop(struct mmrace_run *r)
{
	struct col *c = r->priv;

	kthread_stop(c->khugepaged);
	c->khugepaged = NULL;
}

static int col_check(struct mmrace_run *r)
{
	struct col *c = r->priv;
	unsigned long index, pages = 0, bad = 0;
	u64 spin_us = mmrace_stat_read(r, COL_MAX_SPIN_US);
	u64 bound_ms = mmrace_knob(r, COL_K_BOUND_MS);
	int ret = 0;

	for (index = 0; index < c->size; index++) {
		void *entry = xa_load(&c->xa, index);
		struct col_page *p = entry;
		unsigned int w, off;

		if (xa_is_value(entry)) {
			if (xa_to_value(entry) != index && !bad++)
				mmrace_invariant(r, "index %lu holds the swap entry of %lu",
						 index, xa_to_value(entry));
			continue;
		}
		if (!p) {
			if (!bad++)
				mmrace_invariant(r, "index %lu maps to nothing", index);
			continue;
		}
		off = index - p->index;
		if (index < p->index || off >= p->nr) {
			if (!bad++)
				mmrace_invariant(r, "index %lu maps to the page for %lu..%lu",
						 index, p->index, p->index + p->nr - 1);
			continue;
		}
		for (w = 0; w < COL_WORDS; w++)
			if (p->data[off * COL_WORDS + w] != col_pattern(index, w))
				break;
		if (w < COL_WORDS && !bad++)
			mmrace_invariant(r, "index %lu holds the wrong data", index);
		if (off)
			continue;
		/* Once per page: the rest of its indices, flags, refcount. */
		pages++;
		for (w = 1; w < p->nr; w++)
			if (xa_load(&c->xa, index + w) != p && !bad++)
				mmrace_invariant(r, "page for %lu..%lu is missing at %lu",
						 p->index, p->index + p->nr - 1,
						 index + w);
		if ((p->flags != BIT(COL_UPTODATE) ||
		     atomic_read(&p->ref) != p->nr) && !bad++)
			mmrace_invariant(r, "page at %lu: flags %#lx refcount %d, want %#lx and %u",
					 index, p->flags, atomic_read(&p->ref),
					 BIT(COL_UPTODATE), p->nr);
	}
	if (atomic_read(&c->live) != pages && !bad++)
		mmrace_invariant(r, "%d pages allocated, %lu in the cache: references leaked",
				 atomic_read(&c->live), pages);
	if (bad || mmrace_stat_read(r, COL_BAD_DATA))
		ret = -EIO;
	if (atomic_read(&c->watchdog_fired))
		ret = -EIO;
	if (spin_us > bound_ms * USEC_PER_MSEC) {
		mmrace_invariant(r, "longest reader spin %llu us, bound %llu ms",
				 spin_us, bound_ms);
		ret = -EIO;
	}
	return ret;
}

static const struct col_policy col_freeze = { .freeze = true };
static const struct col_policy col_lock = { .freeze = false };

static const struct mmrace_variant col_variants[] = {
	{ "freeze", "soft_lockup|rcu_stall|mmrace:spin watchdog",
	  "the new page frozen at refcount 0 for the whole collapse: readers spin",
	  .duration_ms = 8000, .data = &col_freeze },
	{ "lock", "clean",
	  "what landed: the new page locked and not uptodate, refcount normal",
	  .duration_ms = 8000, .data = &col_lock },
};

const struct mmrace_scenario mmrace_collapse = {
	.name = "collapse",
	.doc = "khugepaged collapse with the new page frozen under speculative readers",
	.variants = col_variants,
	.nr_variants = ARRAY_SIZE(col_variants),
	.knobs = col_knobs,
	.nr_knobs = ARRAY_SIZE(col_knobs),
	.stats = col_stats,
	.nr_stats = ARRAY_SIZE(col_stats),
	.contexts = BIT(MMRACE_CTX_TASK),
	.min_ops = 500,
	.setup = col_setup,
	.op = col_op,
	.stop = col_stop,
	.check = col_check,
	.teardown = col_teardown,
};
