// SPDX-License-Identifier: GPL-2.0
/*
 * collapse: khugepaged collapsing small page-cache pages into a huge one
 * with the new page's refcount frozen (linux-mm, Nov 2018, Hugh Dickins,
 * "mm/khugepaged: collapse_shmem() without freezing new_page"; landed as
 * 87c460a0bded, fixing f3f0e1d2150b2 of 4.8), and what that fix itself
 * turned out to allow (Hugh, 2020, "mm/khugepaged: fix filemap
 * page_to_pgoff(page) != offset", Fixes: 87c460a0bded).
 *
 * A private page cache: an XArray of descriptors for a private file,
 * "ranges" aligned ranges of "pages" small pages each.  Each descriptor
 * is backed by a real page (a compound one of the huge page's order for
 * a huge descriptor) from alloc_pages(), never in any real page cache
 * or on any LRU, whose ->index and ->mapping are the model's: what
 * page_to_pgoff() reads and what dump_page() prints.  ->mapping points
 * at a zeroed address_space of the model's own (dump_mapping() then
 * says "aops:0x0").  One collapse thread plays khugepaged: it takes a
 * new page, walks the range replacing each small entry with it, swaps
 * in the entries that are out on swap with deliberately slow work,
 * copies and publishes, or rolls back half-way when told to (or when a
 * reader holds an old page's lock or a reference to it, as
 * SCAN_PAGE_LOCK and SCAN_PAGE_COUNT).  On its next visit it splits the
 * huge page again (and swaps the tail back out), so that the collapse
 * repeats for the whole run.  Readers on every CPU do what the fault
 * path did: find_get_entry()'s RCU lookup, get unless zero, retry on
 * failure, re-check the slot; and on a page that is locked or not
 * uptodate, filemap_fault()'s (and find_lock_entry()'s) slow path:
 * lock_page(), "did it get truncated?" (->mapping), then
 * VM_BUG_ON_PAGE(page_to_pgoff(page) != offset, page) on the subpage
 * find_subpage() picked.
 *
 *   freeze      before the fix: the new page sits in the tree with its
 *               refcount frozen at 0 for the whole collapse; readers
 *               spin on it while the collapse sleeps.  Readers spin with
 *               preemption off: that models the !PREEMPT kernels of
 *               2018 (see col_find_get()).  With a reader on every CPU
 *               the collapse cannot even get back on a CPU to finish:
 *               soft lockup, or an RCU stall (the spin is inside
 *               rcu_read_lock()): the thread says only "lockups".  When
 *               readers leave a CPU free (threads=1 on 2 CPUs), spins
 *               mostly end with the swap-in, too soon for any kernel
 *               detector: mmrace's spin watchdog, over
 *               spin_watchdog_threshold_ms, reports them at the check.
 *               That configuration is not the variant's default and not
 *               its expectation.
 *   lock        the fix, as tested: the new page is locked and not
 *               uptodate, refcount normal; readers take a reference and
 *               sleep for its lock; spins stay under spin_bound_ms.  The
 *               new page is allocated for each collapse and put after a
 *               failed one, as khugepaged_alloc_page() did on a NUMA
 *               kernel ("most of us were usually testing with
 *               CONFIG_NUMA=y kernels").
 *   lock_reuse  the same fix on a !NUMA kernel: khugepaged_prealloc_page()
 *               keeps one huge page, and after a failed collapse the
 *               same page serves the next collapse, at another offset.
 *               A reader that took a reference to it at the old offset
 *               and slept in lock_page() wakes to a page whose ->mapping
 *               is valid again but whose ->index has moved: the
 *               VM_BUG_ON_PAGE() fires (CONFIG_DEBUG_VM).  Without
 *               DEBUG_VM the kernel maps the other offset's data,
 *               silently; the model counts that (reader_wrong_pgoff)
 *               and reports nothing.
 *   lock_fresh  Hugh's 2020 fix: no reuse after a failed collapse (the
 *               !NUMA preallocation stays, but a failed collapse drops
 *               its page, as 6.12's collapse_file() folio_put()s
 *               new_folio on failure); a waiter only ever finds its page
 *               truncated (reader_lock_truncated), and looks again.
 *
 * In all, the old pages stay frozen once out of the tree, until they
 * are freed on success or put back and unfrozen on failure, and the
 * check wants every index mapped to one page with the right data and
 * its base refcount.
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mmdebug.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/wait.h>
#include <linux/bitops.h>
#include <linux/version.h>
#include "../mmrace.h"
#include "../compat.h"
#include "../trace.h"

/* Where khugepaged's new page comes from, and where it goes on failure. */
enum col_hpage {
	/* CONFIG_NUMA khugepaged_alloc_page(): a new one each time, put on failure */
	COL_HPAGE_NUMA,
	/* !NUMA khugepaged_prealloc_page() before 2020: kept, reused after failure */
	COL_HPAGE_REUSE,
	/* !NUMA after Hugh's 2020 fix: preallocated, but dropped after a failure */
	COL_HPAGE_FRESH,
};

struct col_policy {
	bool freeze;		/* page_ref_freeze(new_page, 1) at the start */
	enum col_hpage hpage;
};

/* Data words per small page: enough to tell one index from another. */
#define COL_WORDS	8

/* Page flags, as bits of col_page.flags. */
enum { COL_LOCKED, COL_UPTODATE };

/*
 * A page-cache page: one small page (nr == 1) or a huge one covering nr
 * indices from its index.  The cache holds one reference per index the
 * page is mapped at (a huge page nr, as after page_ref_add(HPAGE_PMD_NR
 * - 1)); readers hold more for the length of a lookup.  The descriptor
 * is freed an RCU grace period after the last put (readers find it
 * under RCU only); @pg goes at once, as no reader touches it without a
 * reference.
 *
 * @pg is the real page behind it, of order order_base_2(nr): its
 * ->index is the model's index (the first one it covers) and its
 * ->mapping the model's file while it is in the cache, NULL once a
 * failed collapse or a split took it out, as the kernel's.
 */
struct col_page {
	atomic_t ref;
	unsigned long flags;
	unsigned int nr;
	struct page *pg;
	struct rcu_head rcu;
	u64 data[];		/* nr * COL_WORDS */
};

static unsigned long col_index(const struct col_page *p)
{
	return READ_ONCE(p->pg->index);
}

struct col {
	struct mmrace_run *r;
	const struct col_policy *pol;
	unsigned int nr;		/* small pages per huge page */
	unsigned int ranges;
	unsigned long size;		/* nr * ranges indices */
	struct xarray xa;		/* the private file's page cache */
	/* What ->mapping of a page in the file points at: only its address. */
	struct address_space mapping;
	/* !NUMA khugepaged's *hpage: preallocated, maybe left by a failure. */
	struct col_page *hpage;
	bool hpage_failed;		/* @hpage is a failed collapse's */
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
	COL_FAILED_LOCKED, COL_WAITS_NEW, COL_TRUNCATED, COL_HPAGE_REUSED,
	COL_WRONG_PGOFF, COL_HPAGE_REUSED_HELD,
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
	/* trylock_page() of an old page failed: a reader held it (SCAN_PAGE_LOCK) */
	[COL_FAILED_LOCKED] = { "collapse_failed_locked", MMRACE_SUM },
	/* reader_lock_waits on a huge page: a collapse's new page */
	[COL_WAITS_NEW] = { "reader_lock_waits_new", MMRACE_SUM },
	/* a reader got the lock and found the page out of the file: looked again */
	[COL_TRUNCATED] = { "reader_lock_truncated", MMRACE_SUM },
	/* a failed collapse's page served the next collapse (!NUMA, before 2020) */
	[COL_HPAGE_REUSED] = { "hpage_reused", MMRACE_SUM },
	/* page_to_pgoff(page) != offset, seen only where VM_BUG_ON_PAGE is a no-op */
	[COL_WRONG_PGOFF] = { "reader_wrong_pgoff", MMRACE_SUM },
	/* hpage_reused while readers still held a reference to it */
	[COL_HPAGE_REUSED_HELD] = { "hpage_reused_held", MMRACE_SUM },
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
		"pages out on swap after a split, from a random one on (each swap-in is slow)" },
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

static unsigned int col_order(unsigned int nr)
{
	return order_base_2(nr);
}

/*
 * A page in the file at @index: its real page's ->index and ->mapping
 * set as the kernel's (collapse_file(): new_page->index = start,
 * new_page->mapping = mapping).
 */
static struct col_page *col_alloc(struct col *c, unsigned long index,
				  unsigned int nr)
{
	unsigned int order = col_order(nr);
	struct col_page *p;

	p = kzalloc(struct_size(p, data, (size_t)nr * COL_WORDS), GFP_KERNEL);
	if (!p)
		return NULL;
	p->pg = alloc_pages(GFP_KERNEL | (order ? __GFP_COMP : 0), order);
	if (!p->pg) {
		kfree(p);
		return NULL;
	}
	p->pg->index = index;
	p->pg->mapping = &c->mapping;
	atomic_set(&p->ref, 1);
	p->nr = nr;
	atomic_inc(&c->live);
	return p;
}

static void col_fill(struct col_page *p)
{
	unsigned long index = col_index(p);
	unsigned int i, w;

	for (i = 0; i < p->nr; i++)
		for (w = 0; w < COL_WORDS; w++)
			p->data[i * COL_WORDS + w] = col_pattern(index + i, w);
}

/* The real page goes back as the allocator wants it: no mapping. */
static void col_free_page(struct col_page *p)
{
	p->pg->mapping = NULL;
	p->pg->index = 0;
	__free_pages(p->pg, col_order(p->nr));
}

/* Readers may still hold the pointer from an RCU lookup: defer. */
static void col_free(struct col *c, struct col_page *p)
{
	atomic_dec(&c->live);
	col_free_page(p);
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

/* find_subpage(): the subpage of @p the file's @offset is at. */
static struct page *col_subpage(struct col_page *p, unsigned long offset)
{
	return nth_page(p->pg, offset % p->nr);
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
	unsigned long start = col_index(p);
	unsigned int off = index - start, w;

	if (index < start || off >= p->nr) {
		mmrace_stat_inc(c->r, COL_BAD_DATA);
		mmrace_invariant(c->r, "index %lu found a page for %lu..%lu",
				 index, start, start + p->nr - 1);
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
 * lock_page(), sleeping (TASK_IDLE: a wait as long as slow_ms is not a
 * hung task) until the bit is ours; false if the run stops first.
 */
static bool col_lock_page(struct col *c, struct col_page *p)
{
	struct mmrace_run *r = c->r;

	if (!test_and_set_bit_lock(COL_LOCKED, &p->flags))
		return true;
	mmrace_stat_inc(r, COL_WAITS);
	if (p->nr > 1)
		mmrace_stat_inc(r, COL_WAITS_NEW);
	while (test_and_set_bit_lock(COL_LOCKED, &p->flags)) {
		wait_event_idle_timeout(c->lock_wq,
					!test_bit(COL_LOCKED, &p->flags) ||
					mmrace_stopping(r), HZ);
		if (mmrace_stopping(r))
			return false;
	}
	return true;
}

enum col_fault { COL_MAPPED, COL_RETRY, COL_DONE };

/*
 * The fault proper on a page found locked or not uptodate, holding a
 * reference: filemap_fault() as of 2020 (find_lock_entry() for shmem
 * did the same), from lock_page() to the checks before the page is
 * mapped.  Returns COL_MAPPED with the page locked, COL_RETRY to look
 * the index up again, COL_DONE to give up this fault; on both of these
 * the reference is dropped.
 */
static enum col_fault col_fault_locked(struct col *c, struct col_page *p,
				       unsigned long offset)
{
	struct mmrace_run *r = c->r;
	struct page *page;

	if (!col_lock_page(c, p)) {
		col_put(c, p);
		return COL_DONE;
	}
	/* Did it get truncated? (A failed collapse cleared ->mapping.) */
	if (unlikely(READ_ONCE(p->pg->mapping) != &c->mapping)) {
		mmrace_stat_inc(r, COL_TRUNCATED);
		col_unlock(c, p);
		col_put(c, p);
		return COL_RETRY;
	}
	/*
	 * The 2020 re-check, word for word (find_get_page() had returned
	 * find_subpage(page, offset)): a page that is in the file again,
	 * but at another offset, is a BUG with CONFIG_DEBUG_VM.  Without
	 * it the kernel goes on to map the wrong subpage; the model counts
	 * that and leaves the page alone, as nothing in the kernel noticed.
	 */
	page = col_subpage(p, offset);
	VM_BUG_ON_PAGE(page_to_pgoff(page) != offset, page);
	if (unlikely(page_to_pgoff(page) != offset)) {
		mmrace_stat_inc(r, COL_WRONG_PGOFF);
		col_unlock(c, p);
		col_put(c, p);
		return COL_DONE;
	}
	/*
	 * Locked by us, in the file at the right offset, and not uptodate:
	 * only after the lock was taken from under a reused page's holder
	 * (lock_reuse).  filemap_fault() would read it in; give up.
	 */
	if (unlikely(!test_bit_acquire(COL_UPTODATE, &p->flags))) {
		col_unlock(c, p);
		col_put(c, p);
		return COL_DONE;
	}
	return COL_MAPPED;
}

/*
 * A fault on one index: lookup, then the data if the page is uptodate
 * and unlocked; else the fault proper, which sleeps for the lock.
 *
 * Why a locked page takes the slow path even when uptodate: the reader
 * is the fault path the thread is about.  Fault-around skips a locked
 * page (filemap_map_pages(): "if (!trylock_page(page)) goto skip" in
 * 2018, next_uptodate_folio()'s folio_test_locked() in 6.12), and the
 * fault proper, filemap_fault() or shmem_fault() via find_lock_entry(),
 * sleeps in lock_page() until the holder is done, then checks that the
 * page is still in the file, because it may have left meanwhile.
 * (read(2), by contrast, waits only for a page that is not uptodate:
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
	bool locked = false;
	enum col_lookup found;
	enum col_fault f;
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
		 * building it).  An IRQ cannot sleep for the lock: it backs
		 * off.
		 */
		if (!can_sleep) {
			mmrace_stat_inc(r, COL_BACKOFF);
			col_put(c, p);
			return;
		}
		f = col_fault_locked(c, p, index);
		if (f == COL_DONE)
			return;
		if (f == COL_MAPPED) {
			locked = true;
			break;
		}
	}
	col_verify(c, p, index);
	if (locked)
		col_unlock(c, p);
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

		__xa_store(&c->xa, col_index(newp) + i, old, GFP_ATOMIC);
		atomic_set_release(&old->ref, 1);
		clear_bit_unlock(COL_LOCKED, &old->flags);
	}
	xa_unlock(&c->xa);
	/* page_ref_unfreeze(new_page, 1) was in the failure path before 87c460a0bded. */
	if (c->pol->freeze)
		atomic_set_release(&newp->ref, 1);
	/* val < 0: rolled back, after this many subpages. */
	trace_mmrace_freeze(col_index(newp), -(long)done);
	/* new_page->mapping = NULL: waiters see it truncated, and look again. */
	WRITE_ONCE(newp->pg->mapping, NULL);
	col_unlock(c, newp);
	/*
	 * !NUMA before 2020: *hpage still points at it, and the next
	 * collapse takes it again, whoever still holds a reference and
	 * sleeps in lock_page().  NUMA, and Hugh's 2020 fix: put it.
	 */
	if (c->pol->hpage == COL_HPAGE_REUSE) {
		c->hpage = newp;
		c->hpage_failed = true;
	} else {
		col_put(c, newp);
	}
}

/*
 * The new page for a collapse at @start.  khugepaged_alloc_page(): on a
 * NUMA kernel a new one each time.  On !NUMA the one that
 * khugepaged_prealloc_page() set aside (col_khugepaged() keeps one
 * ready), which before 2020 might be a failed collapse's, still
 * referenced by its waiters: collapse_file() then set its ->index and
 * ->mapping and __SetPageLocked() it, as if nobody else could see it.
 * The model's flags are set atomically so that its own bookkeeping
 * stays sound; the lock is taken from under whoever held it all the
 * same.
 */
static struct col_page *col_new_page(struct col *c, unsigned long start)
{
	struct col_page *newp;

	if (c->pol->hpage == COL_HPAGE_NUMA)
		return col_alloc(c, start, c->nr);
	newp = c->hpage;
	c->hpage = NULL;
	if (!newp)
		return NULL;
	if (c->hpage_failed) {
		c->hpage_failed = false;
		mmrace_stat_inc(c->r, COL_HPAGE_REUSED);
		/* Readers still hold it: each may wake at the wrong offset. */
		if (atomic_read(&newp->ref) > 1)
			mmrace_stat_inc(c->r, COL_HPAGE_REUSED_HELD);
		/* obj: the new offset; val: the one its waiters took it at. */
		trace_mmrace_reuse(start, col_index(newp));
	}
	WRITE_ONCE(newp->pg->index, start);
	WRITE_ONCE(newp->pg->mapping, &c->mapping);
	return newp;
}

/* collapse_shmem() on the range from @start. */
static void col_collapse(struct col *c, unsigned long start, bool inject)
{
	struct mmrace_run *r = c->r;
	unsigned int fail_at = inject ? mmrace_knob(r, COL_K_FAIL_AT) : 0;
	unsigned int i, w, done = 0;
	struct col_page *newp;
	int stat = 0;

	newp = col_new_page(c, start);
	if (!newp)
		return;
	/*
	 * Locked and not uptodate: enough to keep readers off the data.
	 * __SetPageLocked() in the kernel; see col_new_page().
	 */
	set_bit(COL_LOCKED, &newp->flags);
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
			/* A reader in the fault path holds it: SCAN_PAGE_LOCK. */
			if (test_and_set_bit_lock(COL_LOCKED, &old->flags)) {
				xa_unlock(&c->xa);
				stat = COL_FAILED_LOCKED;
				break;
			}
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
 * Which subpages of a range are out on swap: a run of "swapped" from a
 * random subpage (wrapping), drawn anew at each split, since reclaim
 * picks whatever it picks.  So a collapse may meet its slow swap-in
 * before a failure (fail_at) as well as after it.  (The model used to
 * swap out the tail only: every injected failure then came before the
 * swap-in, while the new page had been in the tree for microseconds.)
 */
static unsigned int col_swap_first(struct col *c)
{
	return mmrace_rand_below(c->nr);
}

static bool col_is_swapped(struct col *c, unsigned int first, unsigned int i)
{
	unsigned int swapped = min_t(u64, mmrace_knob(c->r, COL_K_SWAPPED),
				     c->nr);

	return (i + c->nr - first) % c->nr < swapped;
}

/*
 * Undo a collapse so that the next one has work: small pages again,
 * some back out on swap.  Readers still holding the huge page keep it,
 * with the same data, until they drop it.
 */
static void col_split(struct col *c, struct col_page *huge)
{
	unsigned int first = col_swap_first(c);
	unsigned long start = col_index(huge);
	unsigned int i, w;

	for (i = 0; i < c->nr; i++) {
		struct col_page *p;

		c->old[i] = NULL;
		if (col_is_swapped(c, first, i))
			continue;
		p = col_alloc(c, start + i, 1);
		if (!p)
			goto undo;
		for (w = 0; w < COL_WORDS; w++)
			p->data[w] = huge->data[i * COL_WORDS + w];
		col_mark_uptodate(p);
		c->old[i] = p;
	}
	xa_lock(&c->xa);
	for (i = 0; i < c->nr; i++) {
		unsigned long index = start + i;

		__xa_store(&c->xa, index, c->old[i] ?: xa_mk_value(index),
			   GFP_ATOMIC);
	}
	xa_unlock(&c->xa);
	/* Out of the file: a reader sleeping for its lock looks again. */
	WRITE_ONCE(huge->pg->mapping, NULL);
	col_put_many(c, huge, c->nr);
	mmrace_stat_inc(c->r, COL_SPLITS);
	return;
undo:
	while (i--)
		if (c->old[i])
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
		/* khugepaged_prealloc_page(), !NUMA: one page kept ready. */
		if (c->pol->hpage != COL_HPAGE_NUMA && !c->hpage) {
			c->hpage = col_alloc(c, 0, c->nr);
			if (c->hpage)
				c->hpage->pg->mapping = NULL;
		}
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
		col_free_page(entry);
		kfree(entry);
	}
	xa_destroy(&c->xa);
	/* The page khugepaged kept ready, or a failed collapse's. */
	if (c->hpage) {
		col_free_page(c->hpage);
		kfree(c->hpage);
	}
	kfree(c->old);
	kfree(c);
	r->priv = NULL;
}

static int col_setup(struct mmrace_run *r)
{
	unsigned int first = 0;
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

	/* Every range starts small, some of it out on swap, as after a split. */
	for (index = 0; index < c->size; index++) {
		void *entry = xa_mk_value(index);

		if (!(index % c->nr))
			first = col_swap_first(c);
		if (!col_is_swapped(c, first, index % c->nr)) {
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
	/*
	 * The lock that replaced the freeze must have been met: readers
	 * found a collapse's new page locked and slept for it.
	 */
	if (!mmrace_stat_read(r, COL_WAITS_NEW)) {
		mmrace_floor_miss(r,
				  "reader_lock_waits_new 0 (reader_lock_waits %llu): no reader ever slept on a new page's lock",
				  mmrace_stat_read(r, COL_WAITS));
		bad = true;
	}
	/*
	 * Hugh's 2020 window: a reader slept on a new page whose collapse
	 * then failed, and woke to find it out of the file.  What reuse
	 * turns into the VM_BUG_ON_PAGE must have happened, here harmless.
	 */
	if (c->pol->hpage == COL_HPAGE_FRESH && mmrace_stat_read(r, COL_FAILED) &&
	    !mmrace_stat_read(r, COL_TRUNCATED)) {
		mmrace_floor_miss(r,
				  "reader_lock_truncated 0 after %llu failed collapses: no reader slept on a collapse that failed",
				  mmrace_stat_read(r, COL_FAILED));
		bad = true;
	}
	return bad;
}

static int col_check(struct mmrace_run *r)
{
	struct col *c = r->priv;
	unsigned long index, start, pages = 0, bad = 0;
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
		start = col_index(p);
		off = index - start;
		if (index < start || off >= p->nr) {
			if (!bad++)
				mmrace_invariant(r, "index %lu maps to the page for %lu..%lu",
						 index, start, start + p->nr - 1);
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
						 start, start + p->nr - 1,
						 index + w);
		if ((p->flags != BIT(COL_UPTODATE) ||
		     atomic_read(&p->ref) != p->nr) && !bad++)
			mmrace_invariant(r, "page at %lu: flags %#lx refcount %d, want %#lx and %u",
					 index, p->flags, atomic_read(&p->ref),
					 BIT(COL_UPTODATE), p->nr);
		if (p->pg->mapping != &c->mapping && !bad++)
			mmrace_invariant(r, "page at %lu: mapping %p, not the file's",
					 index, p->pg->mapping);
	}
	/* khugepaged's page kept ready is the one allowed outside the cache. */
	if (c->hpage)
		pages++;
	if (atomic_read(&c->live) != pages && !bad++)
		mmrace_invariant(r,
				 "%d pages allocated, %lu in the cache or kept: references leaked",
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

static const struct col_policy col_freeze = {
	.freeze = true, .hpage = COL_HPAGE_NUMA,
};

static const struct col_policy col_lock = {
	.freeze = false, .hpage = COL_HPAGE_NUMA,
};

static const struct col_policy col_lock_reuse = {
	.freeze = false, .hpage = COL_HPAGE_REUSE,
};

static const struct col_policy col_lock_fresh = {
	.freeze = false, .hpage = COL_HPAGE_FRESH,
};

static const struct mmrace_variant col_variants[] = {
	/* 87c460a0bded: "lockups"; which detector, the thread does not say. */
	{ "freeze", "soft_lockup|rcu_stall",
	  "the new page frozen at refcount 0 for the whole collapse: readers spin (preemption off, as the !PREEMPT kernels of 2018)",
	  .duration_ms = 8000, .data = &col_freeze },
	{ "lock", "clean",
	  "what landed (87c460a0bded), NUMA: the new page locked and not uptodate, refcount normal, a fresh one per collapse",
	  .duration_ms = 8000, .data = &col_lock },
	/* Hugh, 2020: filemap_fault()'s VM_BUG_ON_PAGE, on !NUMA kernels. */
	{ "lock_reuse", "vm_bug:page_to_pgoff(page) != offset",
	  "87c460a0bded on !NUMA: a failed collapse's page reused at another offset under a reader sleeping in lock_page()",
	  .duration_ms = 8000, .data = &col_lock_reuse },
	{ "lock_fresh", "clean",
	  "Hugh's 2020 fix on !NUMA: no reuse of the huge page after a failed collapse",
	  .duration_ms = 8000, .data = &col_lock_fresh },
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
