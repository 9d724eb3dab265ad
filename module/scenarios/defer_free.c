// SPDX-License-Identifier: GPL-2.0
/*
 * defer_free: freeing hugetlb pages from non-task context (linux-mm,
 * Dec 2019, "mm/hugetlb: Defer freeing of huge pages if in non-task
 * context"; landed as c77c0a8ac4c5, later replaced by db71ef79b59b),
 * and what upstream later found wrong with what landed.
 *
 * A private pool of real compound pages under a lock modelled on the
 * 2019 hugetlb_lock (plain spin_lock, never IRQ-safe) and, on a mount
 * with a size limit (the "subpool" knob), a subpool lock taken and
 * released before hugetlb_lock, as free_huge_page() did.  Task context
 * allocates from the pool, as a fault does; every context drops the last
 * reference, as an I/O completion did in the report (bio_check_pages_dirty
 * -> put_page -> free_huge_page from softirq).
 *
 *   direct          free takes hugetlb_lock wherever it runs: lockdep
 *   xchg            the posted patch: xchg list, NEXT_PENDING in
 *                   page->mapping until next is written, drained by a work
 *   xchg_nopending  the same without the marker: the drain follows a
 *                   stale next and pages are lost
 *   xchg_plain      xchg with the write of next a plain store: KCSAN
 *   llist           what landed (v3): llist_add + llist_del_all, with the
 *                   callers of 2019
 *   llist_bh        the same, plus syzbot's 2021 caller: a task-context
 *                   free with BHs off under slock-AF_INET (__tcp_close)
 *   llist_isolate   the same, plus an isolation pass that expects a page
 *                   it saw freed back in the pool at once (67bab13307c8)
 *   llist_wait      its fix: flush the drain first
 *   irqsafe         what replaced it in 5.13: IRQ-safe locks, no deferral
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/llist.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/workqueue.h>
#include <linux/sched/clock.h>
#include "../mmrace.h"
#include "../trace.h"
#include "../xlist.h"

enum df_defer { DF_DIRECT, DF_XCHG, DF_XCHG_NOPENDING, DF_LLIST };

/* The isolation pass of alloc_contig_range(), and how it waits. */
enum df_isolate { DF_ISO_NONE, DF_ISO_NOWAIT, DF_ISO_WAIT };

struct df_policy {
	enum df_defer defer;
	bool irqsafe;		/* hugetlb_lock and the subpool lock */
	unsigned int window_ns;	/* default gap between xchg and next */
	bool subpool;		/* default: a size-limited mount */
	bool tcp_close;		/* the 2021 caller, BHs off, slock held */
	enum df_isolate isolate;
	bool plain_next;	/* DF_XCHG: next written without WRITE_ONCE() */
};

/*
 * Where each page is, so that a page in two places is caught.  FREEING:
 * a free (direct, or the drain's) owns it and is taking the locks; POOL
 * is set under hugetlb_lock, so that the isolation test, under the same
 * lock, reads POOL as "on the free list", as test_pages_isolated() reads
 * PageBuddy under zone->lock.
 */
enum df_state { DF_POOL, DF_HELD, DF_DEFERRED, DF_FREEING };

struct df {
	const struct df_policy *pol;
	unsigned int order, nr;
	bool subpool;			/* the knob, or the variant's */
	struct page **pages;		/* every page we own, by page->index */
	atomic_t *state;		/* enum df_state, by page->index */
	u8 *free_ctx;			/* enum mmrace_ctx of the last deferral */
	struct page **held;		/* allocated, not yet freed; xchg slots */
	unsigned long *spool_put;	/* subpool already given this page back */
	unsigned long *isolated;	/* under hugetlb_lock: not allocatable */
	atomic_t deferring;		/* df_defer()s that have not returned */
	atomic_t iso_said;		/* the first failed isolation printed */

	spinlock_t hugetlb_lock;	/* mmrace_hugetlb_lock: free, nr_free */
	struct list_head free;
	unsigned int nr_free;

	spinlock_t spool_lock;		/* mmrace_subpool_lock: used */
	long used;

	spinlock_t slock;		/* mmrace_slock_af_inet, tcp_close */
	bool sock_rx;			/* softirq has taken slock once */

	struct xlist_node *xchg_list;	/* DF_XCHG*: node in page->mapping */
	struct llist_head llist;	/* DF_LLIST: node in page->mapping */
	struct work_struct work;
	struct work_struct kick;	/* the same drain, sent to another CPU */
	atomic_t stalling;		/* a producer is in df_stall() */
	unsigned int window_ns;		/* df_stall()'s, owned by "stalling" */
	struct mmrace_run *r;
};

enum {
	DF_ALLOC, DF_FREE_DIRECT, DF_DEFERRED_N, DF_DRAINED, DF_PENDING_SPINS,
	DF_MAX_BACKLOG, DF_MAX_DEFERRED_US, DF_IRQ_TRYLOCK_BUSY, DF_POOL_EMPTY,
	DF_DOUBLE_FREE, DF_STALL_OVERTAKEN, DF_STALL_ALONE, DF_WINDOW_US,
	DF_DRAIN_CYCLES, DF_FREE_SOFTIRQ, DF_FREE_HARDIRQ, DF_SOCK_RX,
	DF_TCP_CLOSE, DF_ISO, DF_ISO_PENDING, DF_ISO_FLUSHED, DF_ISO_SAVED,
	DF_ISO_FAIL, DF_ISO_BUSY, DF_ISO_TAKEN, DF_ISO_TIMEOUT, DF_ISO_REFUSED,
	DF_NR
};

static const struct mmrace_stat df_stats[DF_NR] = {
	[DF_ALLOC] = { "alloc", MMRACE_SUM },
	[DF_FREE_DIRECT] = { "free_direct", MMRACE_SUM },
	[DF_DEFERRED_N] = { "deferred", MMRACE_SUM },
	[DF_DRAINED] = { "drained", MMRACE_SUM },
	[DF_PENDING_SPINS] = { "pending_spins", MMRACE_SUM },
	[DF_MAX_BACKLOG] = { "max_backlog", MMRACE_MAX },
	[DF_MAX_DEFERRED_US] = { "max_deferred_us", MMRACE_MAX },
	[DF_IRQ_TRYLOCK_BUSY] = { "irq_trylock_busy", MMRACE_SUM },
	[DF_POOL_EMPTY] = { "pool_empty", MMRACE_SUM },
	[DF_DOUBLE_FREE] = { "double_free", MMRACE_SUM },
	[DF_STALL_OVERTAKEN] = { "stall_overtaken", MMRACE_SUM },
	[DF_STALL_ALONE] = { "stall_alone", MMRACE_SUM },
	[DF_WINDOW_US] = { "stall_window_us", MMRACE_MAX },
	[DF_DRAIN_CYCLES] = { "drain_cycles", MMRACE_SUM },
	/* Frees that took hugetlb_lock themselves, in IRQ context. */
	[DF_FREE_SOFTIRQ] = { "free_softirq", MMRACE_SUM },
	[DF_FREE_HARDIRQ] = { "free_hardirq", MMRACE_SUM },
	[DF_SOCK_RX] = { "sock_rx", MMRACE_SUM },
	[DF_TCP_CLOSE] = { "tcp_close_free", MMRACE_SUM },
	[DF_ISO] = { "isolations", MMRACE_SUM },
	[DF_ISO_PENDING] = { "iso_pending", MMRACE_SUM },
	[DF_ISO_FLUSHED] = { "iso_flushed", MMRACE_SUM },
	[DF_ISO_SAVED] = { "iso_saved", MMRACE_SUM },
	[DF_ISO_FAIL] = { "iso_fail_deferred", MMRACE_SUM },
	[DF_ISO_BUSY] = { "iso_busy", MMRACE_SUM },
	/* Of those, failed on a page a running drain had taken off the list. */
	[DF_ISO_TAKEN] = { "iso_busy_drain_taken", MMRACE_SUM },
	[DF_ISO_TIMEOUT] = { "iso_timeout", MMRACE_SUM },
	[DF_ISO_REFUSED] = { "iso_refused", MMRACE_SUM },
};

enum {
	DF_K_PAGES, DF_K_ORDER, DF_K_WINDOW_NS, DF_K_STALL_PCT, DF_K_SUBPOOL,
	DF_K_TCP_PCT, DF_K_ISO_PAGES, DF_K_ISO_PCT
};

static const struct mmrace_knob df_knobs[] = {
	[DF_K_PAGES] = { "pages", 64, 2, 4096, "huge pages in the pool" },
	[DF_K_ORDER] = { "order", 2, 0, 9, "order of each compound page" },
	[DF_K_WINDOW_NS] = { "window_ns", 0, 0, 1000000,
		"longest stall between xchg and the write of next; 0: the variant's" },
	[DF_K_STALL_PCT] = { "stall_pct", 10, 0, 100,
		"percentage of deferrals that stall between xchg and next" },
	[DF_K_SUBPOOL] = { "subpool", 0, 0, 2,
		"0: the variant's; 1: none (no size=); 2: size-limited, lock taken first" },
	[DF_K_TCP_PCT] = { "tcp_pct", 25, 0, 100,
		"percentage of task frees made from __tcp_close (variants with that caller)" },
	[DF_K_ISO_PAGES] = { "iso_pages", 4, 1, 64,
		"pages in each isolated range (variants with an isolation pass)" },
	[DF_K_ISO_PCT] = { "iso_pct", 5, 1, 100,
		"percentage of task ops that run an isolation pass" },
};

/* Both lists borrow page->mapping, as the patch and upstream do. */
static struct page *df_node_page(void *node)
{
	return container_of((struct address_space **)node, struct page, mapping);
}

static struct xlist_node *df_xnode(struct page *page)
{
	return (struct xlist_node *)&page->mapping;
}

static bool df_move(struct df *df, struct page *page, enum df_state from,
		    enum df_state to)
{
	int was = atomic_cmpxchg(&df->state[page->index], from, to);

	if (was == from)
		return true;
	/* The first few say which page; the count says how many. */
	if (mmrace_stat_read(df->r, DF_DOUBLE_FREE) < 3)
		mmrace_invariant(df->r, "page %lu in two places: moving %d -> %d, but it is %d",
				 page->index, from, to, was);
	mmrace_stat_inc(df->r, DF_DOUBLE_FREE);
	return false;
}

static void df_hold(struct df *df, struct page *page)
{
	unsigned int i, start = mmrace_rand_below(df->nr);

	for (i = 0; i < df->nr; i++)
		if (!cmpxchg(&df->held[(start + i) % df->nr], NULL, page))
			return;
	WARN_ON_ONCE(1);	/* more slots than pages: cannot happen */
}

static struct page *df_unhold(struct df *df)
{
	unsigned int i, start = mmrace_rand_below(df->nr);
	struct page *page;

	for (i = 0; i < 4; i++) {
		page = xchg(&df->held[(start + i) % df->nr], NULL);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * The pool half of __free_huge_page(), hugetlb_lock held.  The page is
 * in the pool from here on: POOL is only ever set under the lock.
 */
static void df_return_page(struct df *df, struct page *page)
{
	lockdep_assert_held(&df->hugetlb_lock);
	/* The field the deferral borrowed is cleared here, as upstream. */
	page->mapping = NULL;
	set_page_private(page, 0);
	clear_bit(page->index, df->spool_put);
	list_add(&page->lru, &df->free);
	df->nr_free++;
	df_move(df, page, DF_FREEING, DF_POOL);
}

/*
 * The 2019 locks are plain spin_lock(): correct only in task context.
 * "direct" takes them from softirq too, as free_huge_page() did from the
 * I/O completion; mmrace_irq_spin_lock() keeps the CPU from really
 * deadlocking on the task it interrupted after lockdep has said so.
 *
 * trace events (obj: page index), before the lock that lockdep reports,
 * so that the dump after the splat ends with them: fallback, val 0, a
 * free in IRQ context that takes the task-only locks; trylock_fail,
 * val 0 the subpool lock, 1 hugetlb_lock, busy.
 */
/* Task context (alloc, the drain, a direct free): the variant's lock. */
static __always_inline void df_task_lock(struct df *df, spinlock_t *lock,
					 unsigned long *flags)
{
	if (df->pol->irqsafe)
		spin_lock_irqsave(lock, *flags);
	else
		spin_lock(lock);
}

static __always_inline bool df_lock(struct df *df, spinlock_t *lock,
				    struct page *page, long which,
				    unsigned long *flags)
{
	if (df->pol->irqsafe || in_task()) {
		df_task_lock(df, lock, flags);
		return true;
	}
	if (mmrace_irq_spin_lock(lock))
		return true;
	trace_mmrace_trylock_fail(page->index, which);
	mmrace_stat_inc(df->r, DF_IRQ_TRYLOCK_BUSY);
	return false;
}

static __always_inline void df_unlock(struct df *df, spinlock_t *lock,
				      unsigned long flags)
{
	if (df->pol->irqsafe)
		spin_unlock_irqrestore(lock, flags);
	else
		spin_unlock(lock);
}

/*
 * hugepage_subpool_put_pages() then the rest of __free_huge_page(), as
 * the 2019 free_huge_page() did them: the subpool lock is taken and
 * released first, and only then hugetlb_lock; they never nest.  With no
 * subpool (a mount without size=) only hugetlb_lock is taken.
 *
 * A free from IRQ context that finds a lock busy gives up and the page
 * goes back to a held slot, so that the CPU does not deadlock on the
 * task it interrupted; spool_put remembers that the subpool already
 * has the page back, so that the retry does not count it twice.
 */
static noinline bool __df_free(struct df *df, struct page *page)
{
	unsigned long flags = 0;

	if (!df->pol->irqsafe && !in_task())
		trace_mmrace_fallback(page->index, 0);
	if (df->subpool && !test_bit(page->index, df->spool_put)) {
		if (!df_lock(df, &df->spool_lock, page, 0, &flags))
			return false;
		df->used--;
		df_unlock(df, &df->spool_lock, flags);
		set_bit(page->index, df->spool_put);
	}
	if (!df_lock(df, &df->hugetlb_lock, page, 1, &flags))
		return false;
	df_return_page(df, page);
	df_unlock(df, &df->hugetlb_lock, flags);
	if (!in_task())
		mmrace_stat_inc(df->r, mmrace_ctx_now() == MMRACE_CTX_HARDIRQ ?
				DF_FREE_HARDIRQ : DF_FREE_SOFTIRQ);
	return true;
}

/*
 * A page that was really DEFERRED (our df_move() out of that state just
 * succeeded) carries the time df_defer() stamped before moving it in;
 * a page a stale next led to (xchg_nopending) carries no stamp and is
 * not timed: it shows as a double free instead.
 */
static void df_note_drained(struct df *df, struct page *page)
{
	u64 us = div_u64(local_clock() - page_private(page), NSEC_PER_USEC);

	mmrace_stat_max(df->r, DF_MAX_DEFERRED_US, us);
	mmrace_stat_inc(df->r, DF_DRAINED);
	trace_mmrace_drain(page->index, us);
}

/* The page is FREEING and ours: into the pool, or back to a slot. */
static void df_release(struct df *df, struct page *page)
{
	if (!__df_free(df, page)) {
		atomic_set(&df->state[page->index], DF_HELD);
		df_hold(df, page);
	}
}

static void df_free_now(struct df *df, struct page *page, enum df_state from)
{
	if (!df_move(df, page, from, DF_FREEING))
		return;
	if (from == DF_DEFERRED)
		df_note_drained(df, page);
	df_release(df, page);
}

/*
 * free_hpage_workfn() as posted, spinning while next is NEXT_PENDING.
 *
 * One list taken holds each page at most once, so at most df->nr nodes:
 * a walk longer than that went round a cycle of stale next pointers
 * (xchg_nopending), and would spin this kworker for ever and hang the
 * flush_work() of stop and rmmod.  Stop there and say so.
 *
 * noinline, as df_defer(): KCSAN's report of xchg_plain names the two.
 */
static noinline void df_xchg_drain(struct df *df)
{
	struct xlist_node *curr, *next;
	unsigned long spins = 0;
	unsigned int cnt;

	do {
		curr = xlist_take(&df->xchg_list);
		if (!curr)
			break;
		cnt = 0;
		while (curr) {
			if (cnt == df->nr) {
				if (!mmrace_stat_read(df->r, DF_DRAIN_CYCLES))
					mmrace_invariant(df->r,
							 "deferred list cycle: the drain walked %u nodes, more than the %u pages in the pool (stale next); drain stopped",
							 cnt + 1, df->nr);
				mmrace_stat_inc(df->r, DF_DRAIN_CYCLES);
				break;
			}
			next = xlist_next(curr, &spins);
			df_free_now(df, df_node_page(curr), DF_DEFERRED);
			curr = next;
			cnt++;
		}
		mmrace_stat_max(df->r, DF_MAX_BACKLOG, cnt);
	} while (!READ_ONCE(df->xchg_list));
	mmrace_stat_add(df->r, DF_PENDING_SPINS, spins);
}

/* free_hpage_workfn() as landed: llist_del_all(), then one walk. */
static void df_llist_drain(struct df *df)
{
	struct llist_node *node = llist_del_all(&df->llist);
	unsigned int cnt = 0;

	while (node) {
		struct page *page = df_node_page(node);

		/* The next free reuses page->mapping: read next first. */
		node = node->next;
		df_free_now(df, page, DF_DEFERRED);
		cnt++;
	}
	mmrace_stat_max(df->r, DF_MAX_BACKLOG, cnt);
}

/*
 * Is @page still on the deferred list, or has a drain taken it (and is
 * now freeing it)?  Under hugetlb_lock: a node reachable from the head
 * keeps its next until df_return_page() clears it, under that lock, so
 * the walk is safe; it reads the list as it was when it read the head.
 */
static bool df_on_llist(struct df *df, struct page *page)
{
	struct llist_node *node = READ_ONCE(df->llist.first);
	unsigned int n;

	lockdep_assert_held(&df->hugetlb_lock);
	for (n = 0; node && n < df->nr; n++, node = READ_ONCE(node->next))
		if (df_node_page(node) == page)
			return true;
	return false;
}

static void df_drain(struct df *df)
{
	if (df->pol->defer == DF_LLIST)
		df_llist_drain(df);
	else
		df_xchg_drain(df);
}

static void df_workfn(struct work_struct *w)
{
	df_drain(container_of(w, struct df, work));
}

static void df_kickfn(struct work_struct *w)
{
	df_drain(container_of(w, struct df, kick));
}

/*
 * A producer stalled between its xchg and the write of next, as one
 * interrupted there (or a vCPU the host preempted) is: now and then
 * (stall_pct), kick the drain on another CPU and wait, up to the window,
 * until it has taken the list we head.  Then it reads our next before
 * we wrote it: the marker makes it spin, its absence makes it stop.
 *
 * How soon the kicked drain runs is the host's business: microseconds
 * on an idle TCG host, milliseconds on a loaded one, where a fixed
 * 100 us window was never overtaken and xchg_nopending went uncaught.
 * So, unless the window_ns knob fixes it, a stall left alone doubles
 * the window, up to DF_WINDOW_MAX_NS: long for an interrupt, but under
 * the drivers' duty-cycle bound and far from any lockup threshold.
 */
#define DF_WINDOW_MAX_NS	(4 * NSEC_PER_MSEC)

static void df_stall(struct df *df, struct xlist_node *n)
{
	u64 fixed = mmrace_knob(df->r, DF_K_WINDOW_NS);
	u64 window, deadline;
	bool alone;
	int cpu;

	if ((!fixed && !df->pol->window_ns) ||
	    mmrace_rand_below(100) >= mmrace_knob(df->r, DF_K_STALL_PCT))
		return;
	/* One stalled CPU at a time: the drain needs another one free. */
	if (atomic_cmpxchg(&df->stalling, 0, 1))
		return;
	window = fixed ?: df->window_ns;
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	if (cpu < nr_cpu_ids)
		queue_work_on(cpu, system_wq, &df->kick);
	deadline = local_clock() + window;
	while (READ_ONCE(df->xchg_list) == n && local_clock() < deadline)
		cpu_relax();
	alone = READ_ONCE(df->xchg_list) == n;
	mmrace_stat_inc(df->r, alone ? DF_STALL_ALONE : DF_STALL_OVERTAKEN);
	if (alone && !fixed && cpu < nr_cpu_ids)
		df->window_ns = min_t(u64, 2 * window, DF_WINDOW_MAX_NS);
	mmrace_stat_max(df->r, DF_WINDOW_US, div_u64(window, NSEC_PER_USEC));
	/* Release: the next owner reads the window we wrote. */
	atomic_set_release(&df->stalling, 0);
}

static noinline void df_defer(struct df *df, struct page *page)
{
	struct xlist_node *next;

	/*
	 * The stamp before the move: whoever moves the page out of DEFERRED
	 * (the drain, after its own cmpxchg) finds it set.  A failed move
	 * stamps a page that is elsewhere: a double free, counted as one.
	 */
	set_page_private(page, local_clock());
	df->free_ctx[page->index] = mmrace_ctx_now();
	/*
	 * For the isolation pass, which polls the state as no real
	 * migration does: a free is over only once it has returned, its
	 * page on the list and the work scheduled, and the pass waits until
	 * no free anywhere is still between those.  Without it llist_wait
	 * failed 2 or 3 passes in 4000, in 2 boots of 3, each "after the
	 * flush": a page put on the list after the pass's llist_empty(), or
	 * behind a free whose llist_add() had found the list empty and which
	 * was still before its schedule_work(), so that flush_work() had
	 * nothing to wait for.  Those gaps are upstream's too, but a pass
	 * that polls lands in them far more often than a migration does,
	 * and tracing and a vCPU the host preempts make them long.
	 */
	atomic_inc(&df->deferring);
	/* The count before the state: a pass that sees DEFERRED sees it. */
	smp_mb__after_atomic();
	if (!df_move(df, page, DF_HELD, DF_DEFERRED)) {
		atomic_dec(&df->deferring);
		return;
	}
	mmrace_stat_inc(df->r, DF_DEFERRED_N);
	trace_mmrace_enqueue(page->index, 0);

	if (df->pol->defer == DF_LLIST) {
		/* Only the first page of a batch needs to kick the work. */
		if (llist_add((struct llist_node *)&page->mapping, &df->llist))
			schedule_work(&df->work);
		/* The list and the work before the count drops. */
		smp_mb__before_atomic();
		atomic_dec(&df->deferring);
		return;
	}
	/*
	 * Until the xchg the page is ours alone; after it the drain may
	 * reach the page before next is written, and must not follow
	 * whatever page->mapping held: hence the marker.
	 */
	next = xlist_push_begin(&df->xchg_list, df_xnode(page),
				df->pol->defer == DF_XCHG);
	df_stall(df, df_xnode(page));
	/*
	 * Andrew's question in thread 000: why is this write WRITE_ONCE()
	 * and the marker's not?  Because the drain may be reading next
	 * right now (xlist_next()'s READ_ONCE()).  xchg_plain asks KCSAN:
	 * the same store, plain.
	 */
	if (df->pol->plain_next)
		df_xnode(page)->next = next;
	else
		xlist_push_end(df_xnode(page), next);
	schedule_work(&df->work);
	/* The list and the work before the count drops. */
	smp_mb__before_atomic();
	atomic_dec(&df->deferring);
}

/* free_huge_page(): the last reference dropped in context @ctx. */
static void df_free(struct df *df, struct page *page)
{
	/*
	 * c77c0a8ac4c5's test, and the posted patch's: in_task() is true
	 * for a task with BHs or IRQs off too (the 2021 caller below).
	 */
	if (df->pol->defer != DF_DIRECT && !in_task()) {
		df_defer(df, page);
		return;
	}
	/* The posted patch's catch-up for a list whose work was missed. */
	if (df->pol->defer == DF_XCHG || df->pol->defer == DF_XCHG_NOPENDING)
		if (unlikely(READ_ONCE(df->xchg_list) && !work_pending(&df->work)))
			schedule_work(&df->work);
	mmrace_stat_inc(df->r, DF_FREE_DIRECT);
	df_free_now(df, page, DF_HELD);
}

/*
 * A fault allocating a huge page, task context: the subpool's count
 * (hugepage_subpool_get_pages(), its lock released again), then a page
 * off the pool under hugetlb_lock, as alloc_huge_page() did.  Pages of a
 * range under isolation are not handed out (MIGRATE_ISOLATE).
 */
static noinline void df_alloc(struct df *df)
{
	struct page *page = NULL, *p;
	unsigned long flags = 0;

	if (df->subpool) {
		df_task_lock(df, &df->spool_lock, &flags);
		df->used++;
		df_unlock(df, &df->spool_lock, flags);
	}
	df_task_lock(df, &df->hugetlb_lock, &flags);
	list_for_each_entry(p, &df->free, lru) {
		if (test_bit(p->index, df->isolated))
			continue;
		list_del(&p->lru);
		df->nr_free--;
		page = p;
		/* Under the lock, as POOL is set: the test reads both. */
		if (!df_move(df, page, DF_POOL, DF_HELD))
			page = NULL;
		break;
	}
	df_unlock(df, &df->hugetlb_lock, flags);

	if (!page) {
		/* The subpool count goes back, as on a failed dequeue. */
		if (df->subpool) {
			df_task_lock(df, &df->spool_lock, &flags);
			df->used--;
			df_unlock(df, &df->spool_lock, flags);
		}
		mmrace_stat_inc(df->r, DF_POOL_EMPTY);
		return;
	}
	mmrace_stat_inc(df->r, DF_ALLOC);
	df_hold(df, page);
}

/*
 * The 2021 caller (syzbot, "possible deadlock in sk_clone_lock"): TCP
 * zerocopy put a hugetlb page in a socket's queue, and __tcp_close()
 * freed it with local_bh_disable() and bh_lock_sock() held.  slock-
 * AF_INET is softirq-safe because the receive path takes it in softirq
 * (tcp_v4_rcv() -> bh_lock_sock_nested()); that is df_tcp_rcv().  A
 * socket is closed only after it has received (sock_rx): lockdep then
 * knows slock as softirq-safe before it sees hugetlb_lock taken under
 * it, and names the order, as syzbot's report did.
 *
 * The receive takes slock with mmrace_irq_spin_lock(): lockdep must see
 * a real spin_lock() in softirq, but after its report a softirq landing
 * on a task that holds hugetlb_lock, while the other CPU holds slock
 * and waits for hugetlb_lock, would really deadlock (the scenario the
 * report describes); a busy slock is skipped instead.
 */
static void df_tcp_rcv(struct df *df)
{
	if (!mmrace_irq_spin_lock(&df->slock))
		return;
	spin_unlock(&df->slock);
	mmrace_stat_inc(df->r, DF_SOCK_RX);
	if (!READ_ONCE(df->sock_rx))
		WRITE_ONCE(df->sock_rx, true);
}

static noinline void df_tcp_close(struct df *df, struct page *page)
{
	local_bh_disable();
	spin_lock(&df->slock);
	/* in_task() is true here: c77c0a8ac4c5 frees directly. */
	df_free(df, page);
	spin_unlock(&df->slock);
	local_bh_enable();
	mmrace_stat_inc(df->r, DF_TCP_CLOSE);
}

/*
 * wait_for_freed_hugetlb_folios() as 67bab13307c8 added it (6.12
 * mm/hugetlb.c): flush the drain only if something is on the list.
 */
static bool df_wait_for_freed(struct df *df)
{
	if (llist_empty(&df->llist))
		return false;
	flush_work(&df->work);
	return true;
}

/*
 * How long an isolation pass waits for the pages of its range to be
 * freed by their users before it gives up (iso_timeout), as
 * __alloc_contig_migrate_range() gives up after its retries.
 */
#define DF_ISO_TIMEOUT_NS	(50 * NSEC_PER_MSEC)

static const char *df_ctx_name(u8 ctx)
{
	return ctx < MMRACE_NR_CTX ? mmrace_ctx_names[ctx] : "?";
}

/*
 * An alloc_contig_range() over a range of the pool (CMA in 67bab13307c8):
 * isolate the range, so that no fault allocates from it any more; wait
 * until every page of it has been freed by its user; then test, under
 * hugetlb_lock, that every page of it is back in the pool, as
 * test_pages_isolated() tests PageBuddy under zone->lock.
 *
 * The pages are freed by the drivers' ops, from whatever context the
 * last reference is dropped in, as the users of migrated folios drop
 * theirs: one freed from task context is in the pool at once, one freed
 * from softirq or hardirq is deferred to the work.  The pass fails only
 * if such a deferred free is still on the list when it tests: nothing
 * is injected, and how often that happens is the race's own rate.
 * llist_wait flushes the drain first, as wait_for_freed_hugetlb_folios()
 * does.  A page that a running drain has already taken off the list is
 * not waited for (the list is empty), and fails the pass all the same:
 * the window 67bab13307c8 leaves.  It counts as iso_busy, not as the
 * failure that commit fixed.
 */
static noinline void df_isolate(struct df *df)
{
	struct mmrace_run *r = df->r;
	unsigned int n = min_t(unsigned int, mmrace_knob(r, DF_K_ISO_PAGES), df->nr);
	unsigned int start = mmrace_rand_below(df->nr / n) * n, i;
	bool busy, taken = false, pending = false, flushed = false;
	struct page *bad = NULL;
	u64 deadline, age = 0;
	u8 ctx = 0;
	int st;

	/*
	 * A range another pass has isolated is refused, as
	 * set_migratetype_isolate() refuses an isolated pageblock: the
	 * other pass would un-isolate it under us.
	 */
	spin_lock(&df->hugetlb_lock);
	if (find_next_bit(df->isolated, start + n, start) < start + n) {
		spin_unlock(&df->hugetlb_lock);
		mmrace_stat_inc(r, DF_ISO_REFUSED);
		return;
	}
	for (i = start; i < start + n; i++)
		__set_bit(i, df->isolated);
	spin_unlock(&df->hugetlb_lock);

	deadline = local_clock() + DF_ISO_TIMEOUT_NS;
	for (;;) {
		busy = false;
		for (i = start; i < start + n; i++) {
			st = atomic_read(&df->state[i]);
			busy |= st == DF_HELD || st == DF_FREEING;
		}
		/* Pairs with df_defer()'s barriers around the count. */
		smp_rmb();
		busy |= atomic_read(&df->deferring) != 0;
		if (!busy)
			break;
		if (mmrace_stopping(r) || local_clock() > deadline) {
			mmrace_stat_inc(r, DF_ISO_TIMEOUT);
			goto out;
		}
		usleep_range(10, 20);
	}
	for (i = start; i < start + n; i++)
		pending |= atomic_read(&df->state[i]) == DF_DEFERRED;
	if (df->pol->isolate == DF_ISO_WAIT)
		flushed = df_wait_for_freed(df);

	busy = false;
	spin_lock(&df->hugetlb_lock);
	for (i = start; i < start + n; i++) {
		st = atomic_read(&df->state[i]);
		if (st == DF_DEFERRED && !bad && df_on_llist(df, df->pages[i])) {
			bad = df->pages[i];
			/* Cleared only under this lock, by df_return_page(). */
			age = max_t(s64, 0, local_clock() - page_private(bad));
			ctx = df->free_ctx[i];
		} else if (st != DF_POOL) {
			busy = true;
			taken |= st == DF_DEFERRED;
		}
	}
	spin_unlock(&df->hugetlb_lock);

	mmrace_stat_inc(r, DF_ISO);
	if (pending)
		mmrace_stat_inc(r, DF_ISO_PENDING);
	if (flushed)
		mmrace_stat_inc(r, DF_ISO_FLUSHED);
	if (bad) {
		/* The first says which page and since when; check() counts. */
		if (!atomic_xchg(&df->iso_said, 1))
			mmrace_invariant(r,
					 "isolation of pages %u-%u failed: page %lu, freed from %s context %llu us before, still on the deferred list%s",
					 start, start + n - 1, bad->index,
					 df_ctx_name(ctx), div_u64(age, NSEC_PER_USEC),
					 flushed ? " after the flush" : "");
		mmrace_stat_inc(r, DF_ISO_FAIL);
	} else if (busy) {
		mmrace_stat_inc(r, DF_ISO_BUSY);
		if (taken)
			mmrace_stat_inc(r, DF_ISO_TAKEN);
	} else if (pending && flushed) {
		/* A deferred free was pending, and the flush brought it back. */
		mmrace_stat_inc(r, DF_ISO_SAVED);
	}
out:
	spin_lock(&df->hugetlb_lock);
	for (i = start; i < start + n; i++)
		__clear_bit(i, df->isolated);
	spin_unlock(&df->hugetlb_lock);
}

static void df_op(struct mmrace_run *r, enum mmrace_ctx ctx)
{
	struct df *df = r->priv;
	struct page *page;
	bool task = ctx == MMRACE_CTX_TASK;

	if (task && df->pol->isolate != DF_ISO_NONE &&
	    mmrace_rand_below(100) < mmrace_knob(r, DF_K_ISO_PCT)) {
		df_isolate(df);
		return;
	}
	if (df->pol->tcp_close &&
	    (ctx == MMRACE_CTX_SOFTIRQ || ctx == MMRACE_CTX_HRTIMER))
		df_tcp_rcv(df);
	/* Faults allocate in task context; frees come from everywhere. */
	if (task && mmrace_rand_below(2))
		df_alloc(df);
	page = df_unhold(df);
	if (!page)
		return;
	if (task && df->pol->tcp_close && READ_ONCE(df->sock_rx) &&
	    mmrace_rand_below(100) < mmrace_knob(r, DF_K_TCP_PCT))
		df_tcp_close(df, page);
	else
		df_free(df, page);
}

static int df_setup(struct mmrace_run *r)
{
	u64 subpool = mmrace_knob(r, DF_K_SUBPOOL);
	unsigned int i;
	struct df *df;

	df = kzalloc(sizeof(*df), GFP_KERNEL);
	if (!df)
		return -ENOMEM;
	r->priv = df;
	df->r = r;
	df->pol = r->var->data;
	df->window_ns = df->pol->window_ns;
	df->subpool = subpool ? subpool == 2 : df->pol->subpool;
	/* Before anything can fail: df_teardown() cancels these. */
	INIT_WORK(&df->work, df_workfn);
	INIT_WORK(&df->kick, df_kickfn);
	df->nr = mmrace_knob(r, DF_K_PAGES);
	df->order = mmrace_knob(r, DF_K_ORDER);
	if (((u64)df->nr << df->order) > 16384) {
		pr_warn("defer_free: pages << order must stay within 64 MiB\n");
		return -EINVAL;
	}
	mmrace_spin_lock_init(r, &df->hugetlb_lock, "mmrace_hugetlb_lock");
	mmrace_spin_lock_init(r, &df->spool_lock, "mmrace_subpool_lock");
	mmrace_spin_lock_init(r, &df->slock, "mmrace_slock_af_inet");
	INIT_LIST_HEAD(&df->free);
	init_llist_head(&df->llist);
	df->pages = kcalloc(df->nr, sizeof(*df->pages), GFP_KERNEL);
	df->held = kcalloc(df->nr, sizeof(*df->held), GFP_KERNEL);
	df->state = kcalloc(df->nr, sizeof(*df->state), GFP_KERNEL);
	df->free_ctx = kcalloc(df->nr, sizeof(*df->free_ctx), GFP_KERNEL);
	df->spool_put = bitmap_zalloc(df->nr, GFP_KERNEL);
	df->isolated = bitmap_zalloc(df->nr, GFP_KERNEL);
	if (!df->pages || !df->held || !df->state || !df->free_ctx ||
	    !df->spool_put || !df->isolated)
		return -ENOMEM;
	for (i = 0; i < df->nr; i++) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_COMP |
						__GFP_NOWARN, df->order);

		if (!page)
			return -ENOMEM;
		page->index = i;
		df->pages[i] = page;
		atomic_set(&df->state[i], DF_POOL);
		list_add_tail(&page->lru, &df->free);
		df->nr_free++;
	}
	return 0;
}

/* Drivers are stopped: drain what is deferred, free what is held. */
static void df_stop(struct mmrace_run *r)
{
	struct df *df = r->priv;
	struct page *page;
	unsigned int i;

	flush_work(&df->work);
	flush_work(&df->kick);
	df_drain(df);
	for (i = 0; i < df->nr; i++) {
		page = xchg(&df->held[i], NULL);
		if (page)
			df_free_now(df, page, DF_HELD);
	}
}

/*
 * A clean variant that defers must show it did: pages deferred and
 * drained, and for xchg a drain that spun on the marker (pending_spins),
 * so that the marker's reason was there.  Not stall_overtaken: a
 * stalled producer counts that whenever the head moves, and a newer
 * producer pushing on top moves it too (17 of them on one CPU, where no
 * drain can overtake anything and pending_spins stayed 0).  In the ~4 s
 * default runs every boot seen, debug and stock kernel, deferred and
 * drained at least 384 pages (llist 893), and pending_spins was at
 * least 12169 (30 min: 75 M), on a host loaded 5x over.  Held only to a
 * run that lasted its whole duration_ms, of DF_FLOOR_MIN_MS or more, with
 * an IRQ context driven (mmrace_run_whole()).
 *
 * irqsafe defers nothing: it must show that frees really took its locks
 * from softirq and from hardirq, and that the 2021 caller ran (in 4 s:
 * free_softirq 1173 to 2276, free_hardirq 887 to 2007, tcp_close_free
 * over 25000, on the debug kernel; more on the stock one).
 * llist_wait must show passes whose range had a deferred free pending
 * that the flush brought back (iso_saved): 69 to 170 in the 6 debug
 * boots seen, 136 on the stock kernel, with the host loaded 5x over.
 */
#define DF_FLOOR_MIN_MS		2000
#define DF_SOFTIRQ_CTXS	(BIT(MMRACE_CTX_SOFTIRQ) | BIT(MMRACE_CTX_HRTIMER))
#define DF_HARDIRQ_CTXS	(BIT(MMRACE_CTX_HARDIRQ) | BIT(MMRACE_CTX_IPI))
#define DF_IRQ_CTXS	(DF_SOFTIRQ_CTXS | DF_HARDIRQ_CTXS)
#define DF_ISO_SAVED_FLOOR	10

static bool df_floor_irqsafe(struct df *df)
{
	struct mmrace_run *r = df->r;
	u64 sirq = mmrace_stat_read(r, DF_FREE_SOFTIRQ);
	u64 hirq = mmrace_stat_read(r, DF_FREE_HARDIRQ);
	u64 tcp = mmrace_stat_read(r, DF_TCP_CLOSE);
	bool bad = false;

	if ((r->contexts & DF_SOFTIRQ_CTXS) && !sirq) {
		mmrace_floor_miss(r, "free_softirq 0: no free took the locks from softirq");
		bad = true;
	}
	if ((r->contexts & DF_HARDIRQ_CTXS) && !hirq) {
		mmrace_floor_miss(r, "free_hardirq 0: no free took the locks from hardirq");
		bad = true;
	}
	if (df->pol->tcp_close && (r->contexts & DF_SOFTIRQ_CTXS) &&
	    (r->contexts & BIT(MMRACE_CTX_TASK)) &&
	    mmrace_knob(r, DF_K_TCP_PCT) && !tcp) {
		mmrace_floor_miss(r,
				  "tcp_close_free 0: no free from __tcp_close with slock-AF_INET held");
		bad = true;
	}
	return bad;
}

static bool df_floors(struct df *df)
{
	struct mmrace_run *r = df->r;
	u64 deferred = mmrace_stat_read(r, DF_DEFERRED_N);
	u64 drained = mmrace_stat_read(r, DF_DRAINED);
	u64 spins = mmrace_stat_read(r, DF_PENDING_SPINS);
	u64 saved = mmrace_stat_read(r, DF_ISO_SAVED);
	bool bad = false;

	if (!(r->contexts & DF_IRQ_CTXS) || !mmrace_run_whole(r, DF_FLOOR_MIN_MS))
		return false;
	if (df->pol->defer == DF_DIRECT)
		return df_floor_irqsafe(df);
	if (!deferred || !drained) {
		mmrace_floor_miss(r,
				  "deferred %llu, drained %llu: no free from IRQ context went through the deferral",
				  deferred, drained);
		bad = true;
	}
	if (df->pol->isolate == DF_ISO_WAIT && (r->contexts & BIT(MMRACE_CTX_TASK)) &&
	    saved < DF_ISO_SAVED_FLOOR) {
		mmrace_floor_miss(r,
				  "iso_saved %llu (isolations %llu, iso_pending %llu, iso_flushed %llu): no pass found a deferred free pending and had it back after the flush",
				  saved, mmrace_stat_read(r, DF_ISO),
				  mmrace_stat_read(r, DF_ISO_PENDING),
				  mmrace_stat_read(r, DF_ISO_FLUSHED));
		bad = true;
	}
	if (df->pol->defer != DF_XCHG || spins)
		return bad;
	/* Producers stall only if told to. */
	if (!mmrace_knob(r, DF_K_STALL_PCT) ||
	    (!mmrace_knob(r, DF_K_WINDOW_NS) && !df->pol->window_ns))
		return bad;
	/*
	 * With one CPU online df_stall() has no other CPU to kick the drain
	 * on, and an IRQ producer cannot be overtaken by a drain it
	 * interrupted: nothing to prove, say so.
	 */
	if (num_online_cpus() < 2) {
		pr_info("    # %s/%s floor pending_spins: not checked, one CPU online\n",
			r->sc->name, r->var->name);
		return bad;
	}
	mmrace_floor_miss(r,
			  "pending_spins 0 (stall_overtaken %llu, stall_alone %llu): no drain ever reached a producer's node before its write of next, the marker was never needed",
			  mmrace_stat_read(r, DF_STALL_OVERTAKEN),
			  mmrace_stat_read(r, DF_STALL_ALONE));
	return true;
}

static int df_check(struct mmrace_run *r)
{
	struct df *df = r->priv;
	unsigned int i, lost = 0, stale = 0, listed = 0;
	u64 iso_fail = mmrace_stat_read(r, DF_ISO_FAIL);
	bool recount, bad;
	struct page *page;

	for (i = 0; i < df->nr; i++)
		if (atomic_read(&df->state[i]) != DF_POOL)
			lost++;
	list_for_each_entry(page, &df->free, lru) {
		listed++;
		if (page->mapping)
			stale++;
	}
	if (lost)
		mmrace_invariant(r, "%u of %u pages lost: %s", lost, df->nr,
				 "never drained off the deferred list (stale next)");
	if (stale)
		mmrace_invariant(r, "%u free pages still carry a deferred-list next",
				 stale);
	/* Lost pages were never freed: the subpool still counts them. */
	recount = listed != df->nr_free || listed != df->nr - lost ||
		  (df->subpool && df->used != lost);
	if (recount)
		mmrace_invariant(r, "recount %u, nr_free %u, subpool used %ld; want %u, %u, %u",
				 listed, df->nr_free, df->used,
				 df->nr - lost, df->nr - lost,
				 df->subpool ? lost : 0);
	if (mmrace_stat_read(r, DF_DOUBLE_FREE))
		mmrace_invariant(r, "%llu pages freed twice",
				 mmrace_stat_read(r, DF_DOUBLE_FREE));
	if (iso_fail)
		mmrace_invariant(r,
				 "%llu of %llu isolations failed on a page still on the deferred list",
				 iso_fail, mmrace_stat_read(r, DF_ISO));
	/* The drain printed the first cycle when it met it. */
	bad = lost || stale || recount || iso_fail ||
	      mmrace_stat_read(r, DF_DOUBLE_FREE) ||
	      mmrace_stat_read(r, DF_DRAIN_CYCLES);
	if (!strcmp(r->var->expect, "clean") && df_floors(df))
		bad = true;
	return bad ? -EIO : 0;
}

static void df_teardown(struct mmrace_run *r)
{
	struct df *df = r->priv;
	unsigned int i;

	if (!df)
		return;
	cancel_work_sync(&df->work);
	cancel_work_sync(&df->kick);
	for (i = 0; df->pages && i < df->nr; i++) {
		struct page *page = df->pages[i];

		if (!page)
			continue;
		/* Lost pages still carry our fields: clear before buddy. */
		page->mapping = NULL;
		page->index = 0;
		set_page_private(page, 0);
		__free_pages(page, df->order);
	}
	kfree(df->pages);
	kfree(df->held);
	kfree(df->state);
	kfree(df->free_ctx);
	bitmap_free(df->spool_put);
	bitmap_free(df->isolated);
	kfree(df);
	r->priv = NULL;
}

/*
 * How long a stalled producer waits for the drain to overtake it; the
 * drain usually arrives within tens of microseconds, even under TCG.
 * No subpool where the thread's splat named none: neither the 2019
 * report nor syzbot's names a subpool lock (a mount without size=, and
 * MAP_HUGETLB's internal mount).
 */
static const struct df_policy df_direct = { DF_DIRECT, false, 0, false };
static const struct df_policy df_xchg = { DF_XCHG, false, 100000, true };
static const struct df_policy df_xchg_nopending = {
	DF_XCHG_NOPENDING, false, 100000, true
};

static const struct df_policy df_xchg_plain = {
	DF_XCHG, false, 100000, true, .plain_next = true
};

static const struct df_policy df_llist = { DF_LLIST, false, 0, true };

static const struct df_policy df_llist_bh = {
	DF_LLIST, false, 0, false, .tcp_close = true
};

static const struct df_policy df_llist_isolate = {
	DF_LLIST, false, 0, true, .isolate = DF_ISO_NOWAIT
};

static const struct df_policy df_llist_wait = {
	DF_LLIST, false, 0, true, .isolate = DF_ISO_WAIT
};

static const struct df_policy df_irqsafe = {
	DF_DIRECT, true, 0, true, .tcp_close = true
};

static const struct mmrace_variant df_variants[] = {
	/*
	 * Task and softirq only: the report's free came from an I/O
	 * completion in softirq, and lockdep must name that usage.
	 */
	{ "direct",
	  "lockdep:inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage&mmrace_hugetlb_lock",
	  "free takes the task-only hugetlb_lock from softirq (the I/O completion)",
	  .duration_ms = 3000,
	  .contexts = BIT(MMRACE_CTX_TASK) | BIT(MMRACE_CTX_SOFTIRQ),
	  .data = &df_direct },
	/*
	 * Every deferral stalls between its xchg() and its write of next,
	 * the drain spinning on it: xchg_plain's window, and the control
	 * that tells KCSAN's silence here from its sampling (one plain
	 * access in ~100 is watched, so the store must race hundreds of
	 * times a run; at the scenario's 10 % it did a few times a
	 * second, and KCSAN named none in 5 boots of 4 s).  10 s: the
	 * first report came 0.2 to 4 s in, and in 1 boot of 3 not in 4 s.
	 */
	{ "xchg", "clean", "the posted xchg list with NEXT_PENDING",
	  .duration_ms = 10000, .knobs = "stall_pct=100", .data = &df_xchg },
	{ "xchg_nopending", "mmrace:pages lost",
	  "the xchg list without the marker: the drain follows a stale next",
	  .data = &df_xchg_nopending },
	/*
	 * Thread 000: Andrew asked why the second write to page->mapping
	 * is WRITE_ONCE() and the first is not; Waiman: before the xchg()
	 * the page is invisible, after it the drain reads the field
	 * concurrently.  Here the second is plain too, and KCSAN must name
	 * it against the drain's READ_ONCE(); xchg, whose first store is
	 * plain, must stay KCSAN-clean.  SKIP without CONFIG_KCSAN.  Only a
	 * KCSAN that reports a plain aligned store racing with a marked read
	 * sees it at all (scripts/kernels/kcsan.config says which options),
	 * and KCSAN samples: see docs/scenarios/defer_free.md for the rate.
	 */
	{ "xchg_plain", "kcsan:data-race&df_defer&df_xchg_drain",
	  "the posted xchg list with next written by a plain store: a data race with the drain",
	  .duration_ms = 10000, .knobs = "stall_pct=100",
	  .data = &df_xchg_plain },
	{ "llist", "clean",
	  "what landed in 5.5: llist_add/llist_del_all; clean with the callers of 2019 (IRQ frees, task frees with BHs on)",
	  .data = &df_llist },
	{ "llist_bh",
	  "lockdep:SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected&mmrace_hugetlb_lock",
	  "what landed in 5.5, plus syzbot's 2021 caller: a free in task context with BHs off under slock-AF_INET takes hugetlb_lock",
	  .duration_ms = 3000, .data = &df_llist_bh },
	{ "llist_isolate", "mmrace:isolation&still on the deferred list",
	  "what landed in 5.5, plus an isolation pass that finds a page freed from IRQ still on the deferred list (67bab13307c8)",
	  .data = &df_llist_isolate },
	{ "llist_wait", "clean",
	  "llist_isolate with 67bab13307c8: wait_for_freed_hugetlb_folios() flushes the drain first",
	  .data = &df_llist_wait },
	{ "irqsafe", "clean",
	  "what landed in 5.13: IRQ-safe locks, no deferral; with the 2021 caller",
	  .data = &df_irqsafe },
};

const struct mmrace_scenario mmrace_defer_free = {
	.name = "defer_free",
	.doc = "hugetlb pages freed from non-task context",
	.variants = df_variants,
	.nr_variants = ARRAY_SIZE(df_variants),
	.knobs = df_knobs,
	.nr_knobs = ARRAY_SIZE(df_knobs),
	.stats = df_stats,
	.nr_stats = ARRAY_SIZE(df_stats),
	.contexts = MMRACE_CTX_ALL,
	.min_ops = 1000,
	.setup = df_setup,
	.op = df_op,
	.stop = df_stop,
	.check = df_check,
	.teardown = df_teardown,
};
