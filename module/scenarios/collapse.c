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
 * re-check the slot, and on a page that is locked or not uptodate the
 * slow path (a fault's, see col_op()).
 *
 *   freeze   before the fix: the new page sits in the tree with its
 *            refcount frozen at 0 for the whole collapse; readers spin
 *            on it while the collapse sleeps.  With a reader on every
 *            CPU the collapse cannot even get back on a CPU to finish:
 *            soft lockup.  When readers leave a CPU free (threads=1
 *            on 2 CPUs), spins mostly end with the swap-in, too soon
 *            for any kernel detector: mmrace's spin watchdog, over
 *            spin_watchdog_threshold_ms, reports them at the check.
 *            (Not always: a stop_machine() that needs the spinning CPU,
 *            such as the boot's late switch to the TSC clocksource,
 *            stalls the free CPU too, and the soft lockup fires.)
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
#include "../trace.h"

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
	/* The spin watchdog: the longest spin over its threshold. */
	u64 wd_threshold_ns;
	spinlock_t wd_lock;		/* mmrace_spin_watchdog_lock: wd_* */
	u64 wd_ns, wd_spins, wd_first_ns;
	unsigned long wd_index;
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
 * The spin watchdog is for the spins the soft lockup detector (2 *
 * watchdog_thresh, 4 s in the guest, seen at ~6 s under TCG) cannot
 * see: a reader on a frozen page spins as long as the collapse sleeps
 * in a swap-in (slow_ms), then gets its page, unless readers hold every
 * CPU and the collapse cannot get back on one.  So its threshold sits
 * under slow_ms (by default half of it: a spin that starts half-way
 * through the swap-in still counts) and far above what readers of the
 * fixed "lock" variant spin on an old page frozen under xa_lock (tens of
 * microseconds typically, 22 ms the worst in a 30-minute TCG soak):
 * never under COL_WATCHDOG_MIN_MS.  It reports at ->check, after the
 * run, so that in the default configuration the soft lockup, seconds
 * into the run, is still the first detector on the console.  The
 * give-up stays under the 21 s RCU stall timeout so that grace periods
 * still end.
 */
#define COL_WATCHDOG_MIN_MS	50

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
	[COL_K_WATCHDOG_MS] = { "spin_watchdog_ms", 0, 0, 600000,
		"a reader spin this long fails the run (0: slow_ms / 2, at least 50)" },
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

/*
 * mmrace's own detector: remember the longest spin over the threshold
 * (which index, how long) and when a spin first crossed it (its time
 * to detection), for col_check() to report.  Any reader, from any
 * context, when its spin ends: the lock is taken only by a spin that
 * long.
 */
static void col_spin_watchdog(struct col *c, unsigned long index, u64 spins,
			      u64 ns)
{
	unsigned long flags;
	u64 crossed;

	if (ns < c->wd_threshold_ns)
		return;
	crossed = local_clock() - ns + c->wd_threshold_ns - c->r->t_start_ns;
	spin_lock_irqsave(&c->wd_lock, flags);
	if (!c->wd_first_ns || crossed < c->wd_first_ns)
		c->wd_first_ns = crossed;
	if (ns > c->wd_ns) {
		c->wd_ns = ns;
		c->wd_spins = spins;
		c->wd_index = index;
	}
	spin_unlock_irqrestore(&c->wd_lock, flags);
}

static void col_spin_note(struct col *c, unsigned long index, u64 spins,
			  u64 ns)
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
	col_spin_watchdog(c, index, spins, ns);
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
		/*
		 * local_clock() is cheap, but not free: look now and then,
		 * and leave a trace event for the dump after a soft lockup.
		 */
		if (!(spins & 255)) {
			ns = local_clock() - t0;
			trace_mmrace_spin(index, spins);
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
	col_spin_note(c, index, spins, ns);
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

/*
 * A fault on one index: lookup, then the data if the page is uptodate
 * and unlocked.
 *
 * Why a locked page takes the slow path even when uptodate: the reader
 * is the fault path the thread is about.  Fault-around skips a locked
 * page (filemap_map_pages(): "if (!trylock_page(page)) goto skip" in
 * 2018, next_uptodate_folio()'s folio_test_locked() in 6.12), and the
 * fault proper, filemap_fault() or shmem_fault() via find_lock_entry(),
 * sleeps in lock_page() until the holder is done, then looks again
 * because the page may have left the mapping meanwhile.  (read(2), by
 * contrast, waits only for a page that is not uptodate:
 * do_generic_file_read() then, filemap_update_page() now.)  Here a
 * locked uptodate page is a collapse's: the new page between
 * SetPageUptodate and unlock_page(), or an old one being put back on
 * failure, about to leave or re-enter the tree.
 */
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
		/* Acquire: the data is read only after the uptodate bit. */
		if (test_bit_acquire(COL_UPTODATE, &p->flags) &&
		    !test_bit(COL_LOCKED, &p->flags))
			break;
		/*
		 * Locked, or not uptodate (then locked too: a collapse is
		 * building it).  Wait for the lock (lock_page() in the fault
		 * path) and look again, since a failed collapse takes the
		 * page back out of the cache.  An IRQ cannot wait: it backs
		 * off.
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
	/* val < 0: rolled back, after this many subpages. */
	trace_mmrace_freeze(newp->index, -(long)done);
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
	/*
	 * freeze events, obj the range's first index, val the new page's
	 * refcount as it goes in (0: frozen) and as it is published (nr);
	 * col_rollback() writes minus the subpages it put back.
	 */
	trace_mmrace_freeze(start, atomic_read(&newp->ref));

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
	trace_mmrace_freeze(start, c->nr);
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
	unsigned long index;
	void *entry, *freed = NULL;

	if (!c)
		return;
	if (c->khugepaged)
		kthread_stop(c->khugepaged);
	/*
	 * Readers are gone: free each page at the first index it covers.
	 * A huge page fills the next nr - 1 slots too: compare pointers
	 * there, never read the page again (KFENCE caught p->index read
	 * from a freed huge page in the unload test).
	 */
	xa_for_each(&c->xa, index, entry) {
		if (xa_is_value(entry) || entry == freed)
			continue;
		freed = entry;
		kfree(entry);
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
	u64 wd_ms;
	int ret;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	/* From here every failure goes to "fail" with its own ret set. */
	ret = -ENOMEM;
	r->priv = c;
	c->r = r;
	c->pol = r->var->data;
	c->nr = mmrace_knob(r, COL_K_PAGES);
	c->ranges = mmrace_knob(r, COL_K_RANGES);
	c->size = (unsigned long)c->nr * c->ranges;
	swapped = min_t(u64, mmrace_knob(r, COL_K_SWAPPED), c->nr);
	xa_init(&c->xa);
	/* The xa_lock plays mapping->i_pages' lock: a splat names it so. */
	lockdep_set_class_and_name(&c->xa.xa_lock, mmrace_lock_key(r),
				   "mmrace_i_pages_lock");
	init_waitqueue_head(&c->lock_wq);
	mmrace_spin_lock_init(r, &c->wd_lock, "mmrace_spin_watchdog_lock");
	wd_ms = mmrace_knob(r, COL_K_WATCHDOG_MS) ?:
		max_t(u64, mmrace_knob(r, COL_K_SLOW_MS) / 2, COL_WATCHDOG_MIN_MS);
	c->wd_threshold_ns = wd_ms * NSEC_PER_MSEC;
	mmrace_stat_max(r, COL_WATCHDOG_MS, wd_ms);
	c->old = kcalloc(c->nr, sizeof(*c->old), GFP_KERNEL);
	if (!c->old)
		goto fail;

	/* Every range starts small, its tail out on swap, as after a split. */
	for (index = 0; index < c->size; index++) {
		void *entry = xa_mk_value(index);

		if (index % c->nr < c->nr - swapped) {
			struct col_page *p = col_alloc(c, index, 1);

			/* ret holds the last xa_store()'s 0 by now. */
			if (!p) {
				ret = -ENOMEM;
				goto fail;
			}
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
	/*
	 * The core calls ->teardown() after a failed setup too; doing it
	 * here leaves r->priv NULL, which col_teardown() then skips.
	 */
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

/*
 * A clean run must show that the race was there to lose: collapses done
 * while readers looked, and the failure path taken.  In 8 s runs (the
 * default, slow_ms 300) every boot seen, debug and stock kernel, did at
 * least 19 collapses and 10 injected failures.  Checked only on a run
 * that lasted its whole duration_ms and long enough for 20 collapses
 * (one swap-in of slow_ms each per swapped page), so that runs stopped
 * by hand, rmmod mid-run and the fuzzer's 200 ms runs are not failed.
 */
#define COL_FLOOR_MIN_MS	4000

static bool col_floors(struct col *c)
{
	struct mmrace_run *r = c->r;
	u64 per = mmrace_knob(r, COL_K_SLOW_MS) *
		  min_t(u64, mmrace_knob(r, COL_K_SWAPPED), c->nr);
	u64 every = mmrace_knob(r, COL_K_FAIL_EVERY);
	u64 fail_at = mmrace_knob(r, COL_K_FAIL_AT);
	bool bad = false;

	if (!mmrace_run_whole(r, max_t(u64, COL_FLOOR_MIN_MS, 20 * per)))
		return false;
	if (!mmrace_stat_read(r, COL_COLLAPSED)) {
		mmrace_floor_miss(r,
				  "collapsed 0 in %llu attempts: no new page ever went in under the readers",
				  c->attempts);
		bad = true;
	}
	/*
	 * Every fail_every'th attempt fails at subpage fail_at (if the range
	 * has that many); three such attempts, none failed: the rollback was
	 * never exercised.
	 */
	if (every && fail_at && fail_at <= c->nr && c->attempts >= 3 * every &&
	    !mmrace_stat_read(r, COL_FAILED_INJECTED)) {
		mmrace_floor_miss(r,
				  "collapse_failed_injected 0 after %llu attempts, fail_every %llu: the rollback never ran",
				  c->attempts, every);
		bad = true;
	}
	return bad;
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
	/* Readers are stopped: wd_* is stable, no lock needed. */
	if (c->wd_ns) {
		mmrace_invariant(r,
				 "reader spun %llu ms (%llu retries) on a frozen page at index %lu; a spin first crossed the threshold %llu ms into the run (spin watchdog threshold %llu ms)",
				 div_u64(c->wd_ns, NSEC_PER_MSEC), c->wd_spins,
				 c->wd_index, div_u64(c->wd_first_ns, NSEC_PER_MSEC),
				 div_u64(c->wd_threshold_ns, NSEC_PER_MSEC));
		ret = -EIO;
	}
	if (spin_us > bound_ms * USEC_PER_MSEC) {
		mmrace_invariant(r, "longest reader spin %llu us, bound %llu ms",
				 spin_us, bound_ms);
		ret = -EIO;
	}
	if (!strcmp(r->var->expect, "clean") && col_floors(c))
		ret = -EIO;
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
