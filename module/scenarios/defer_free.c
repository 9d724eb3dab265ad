// SPDX-License-Identifier: GPL-2.0
/*
 * defer_free: freeing hugetlb pages from non-task context (linux-mm,
 * Dec 2019, "mm/hugetlb: Defer freeing of huge pages if in non-task
 * context"; landed as c77c0a8ac4c5, later replaced by db71ef79b59b).
 *
 * A private pool of real compound pages under a lock modelled on the
 * 2019 hugetlb_lock (plain spin_lock, never IRQ-safe) and a subpool lock.
 * Task context allocates from the pool, as a fault does; every context
 * drops the last reference, as an I/O completion did in the report
 * (bio_check_pages_dirty -> put_page -> free_huge_page from softirq).
 *
 *   direct          free takes both locks wherever it runs: lockdep
 *   xchg            the posted patch: xchg list, NEXT_PENDING in
 *                   page->mapping until next is written, drained by a work
 *   xchg_nopending  the same without the marker: the drain follows a
 *                   stale next and pages are lost
 *   llist           what landed (v3): llist_add + llist_del_all
 *   irqsafe         what replaced it in 5.13: IRQ-safe locks, no deferral
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/llist.h>
#include <linux/delay.h>
#include <linux/workqueue.h>
#include <linux/sched/clock.h>
#include "../mmrace.h"
#include "../trace.h"
#include "../xlist.h"

enum df_defer { DF_DIRECT, DF_XCHG, DF_XCHG_NOPENDING, DF_LLIST };

struct df_policy {
	enum df_defer defer;
	bool irqsafe;		/* hugetlb_lock and the subpool lock */
	unsigned int window_ns;	/* default gap between xchg and next */
};

/* Where each page is, so that a page in two places is caught. */
enum df_state { DF_POOL, DF_HELD, DF_DEFERRED };

struct df {
	const struct df_policy *pol;
	unsigned int order, nr;
	struct page **pages;		/* every page we own, by page->index */
	atomic_t *state;		/* enum df_state, by page->index */
	struct page **held;		/* allocated, not yet freed; xchg slots */

	spinlock_t hugetlb_lock;	/* mmrace_hugetlb_lock: free, nr_free */
	struct list_head free;
	unsigned int nr_free;

	spinlock_t spool_lock;		/* mmrace_subpool_lock: used */
	long used;

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
	DF_DRAIN_CYCLES, DF_NR
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
};

enum { DF_K_PAGES, DF_K_ORDER, DF_K_WINDOW_NS, DF_K_STALL_PCT };

static const struct mmrace_knob df_knobs[] = {
	[DF_K_PAGES] = { "pages", 64, 2, 4096, "huge pages in the pool" },
	[DF_K_ORDER] = { "order", 2, 0, 9, "order of each compound page" },
	[DF_K_WINDOW_NS] = { "window_ns", 0, 0, 1000000,
		"longest stall between xchg and the write of next; 0: the variant's" },
	[DF_K_STALL_PCT] = { "stall_pct", 10, 0, 100,
		"percentage of deferrals that stall between xchg and next" },
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

/* The pool half of __free_huge_page(), both locks held. */
static void df_return_page(struct df *df, struct page *page)
{
	df->used--;
	/* The field the deferral borrowed is cleared here, as upstream. */
	page->mapping = NULL;
	set_page_private(page, 0);
	list_add(&page->lru, &df->free);
	df->nr_free++;
}

/*
 * hugepage_subpool_put_pages() + __free_huge_page().  mmrace nests the
 * two locks (upstream takes them one after the other) so that a busy
 * IRQ has nothing to undo.
 *
 * The 2019 locks are plain spin_lock(): correct only in task context.
 * "direct" takes them from IRQs too, as free_huge_page() did from the
 * I/O completion; mmrace_irq_spin_lock() keeps the CPU from really
 * deadlocking on the task it interrupted after lockdep has said so.
 */
static bool __df_free(struct df *df, struct page *page)
{
	unsigned long flags;

	if (df->pol->irqsafe) {
		spin_lock_irqsave(&df->spool_lock, flags);
		spin_lock(&df->hugetlb_lock);
		df_return_page(df, page);
		spin_unlock(&df->hugetlb_lock);
		spin_unlock_irqrestore(&df->spool_lock, flags);
		return true;
	}
	/*
	 * trace events (obj: page index), before the lock that lockdep
	 * reports, so that the dump after the splat ends with them:
	 * fallback, val 0, a free in IRQ context that takes the task-only
	 * locks; trylock_fail, val 0 the subpool lock, 1 hugetlb_lock, busy.
	 */
	if (in_task()) {
		spin_lock(&df->spool_lock);
	} else {
		trace_mmrace_fallback(page->index, 0);
		if (!mmrace_irq_spin_lock(&df->spool_lock)) {
			trace_mmrace_trylock_fail(page->index, 0);
			mmrace_stat_inc(df->r, DF_IRQ_TRYLOCK_BUSY);
			return false;
		}
	}
	if (in_task()) {
		spin_lock(&df->hugetlb_lock);
	} else if (!mmrace_irq_spin_lock(&df->hugetlb_lock)) {
		spin_unlock(&df->spool_lock);
		trace_mmrace_trylock_fail(page->index, 1);
		mmrace_stat_inc(df->r, DF_IRQ_TRYLOCK_BUSY);
		return false;
	}
	df_return_page(df, page);
	spin_unlock(&df->hugetlb_lock);
	spin_unlock(&df->spool_lock);
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

static void df_free_now(struct df *df, struct page *page, enum df_state from)
{
	if (!df_move(df, page, from, DF_POOL))
		return;
	if (from == DF_DEFERRED)
		df_note_drained(df, page);
	if (!__df_free(df, page)) {
		atomic_set(&df->state[page->index], DF_HELD);
		df_hold(df, page);
	}
}

/*
 * free_hpage_workfn() as posted, spinning while next is NEXT_PENDING.
 *
 * One list taken holds each page at most once, so at most df->nr nodes:
 * a walk longer than that went round a cycle of stale next pointers
 * (xchg_nopending), and would spin this kworker for ever and hang the
 * flush_work() of stop and rmmod.  Stop there and say so.
 */
static void df_xchg_drain(struct df *df)
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

static void df_defer(struct df *df, struct page *page)
{
	struct xlist_node *next;

	/*
	 * The stamp before the move: whoever moves the page out of DEFERRED
	 * (the drain, after its own cmpxchg) finds it set.  A failed move
	 * stamps a page that is elsewhere: a double free, counted as one.
	 */
	set_page_private(page, local_clock());
	if (!df_move(df, page, DF_HELD, DF_DEFERRED))
		return;
	mmrace_stat_inc(df->r, DF_DEFERRED_N);
	trace_mmrace_enqueue(page->index, 0);

	if (df->pol->defer == DF_LLIST) {
		/* Only the first page of a batch needs to kick the work. */
		if (llist_add((struct llist_node *)&page->mapping, &df->llist))
			schedule_work(&df->work);
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
	xlist_push_end(df_xnode(page), next);
	schedule_work(&df->work);
}

/* free_huge_page(): the last reference dropped in context @ctx. */
static void df_free(struct df *df, struct page *page)
{
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

/* A fault allocating a huge page: subpool, then pool, task context. */
static void df_alloc(struct df *df)
{
	struct page *page = NULL;
	unsigned long flags = 0;

	/* Task context only: IRQ-safe only where the variant says so. */
	if (df->pol->irqsafe)
		spin_lock_irqsave(&df->spool_lock, flags);
	else
		spin_lock(&df->spool_lock);
	spin_lock(&df->hugetlb_lock);
	if (df->nr_free) {
		page = list_first_entry(&df->free, struct page, lru);
		list_del(&page->lru);
		df->nr_free--;
		df->used++;
	}
	spin_unlock(&df->hugetlb_lock);
	if (df->pol->irqsafe)
		spin_unlock_irqrestore(&df->spool_lock, flags);
	else
		spin_unlock(&df->spool_lock);

	if (!page) {
		mmrace_stat_inc(df->r, DF_POOL_EMPTY);
		return;
	}
	if (!df_move(df, page, DF_POOL, DF_HELD))
		return;
	mmrace_stat_inc(df->r, DF_ALLOC);
	df_hold(df, page);
}

static void df_op(struct mmrace_run *r, enum mmrace_ctx ctx)
{
	struct df *df = r->priv;
	struct page *page;

	/* Faults allocate in task context; frees come from everywhere. */
	if (ctx == MMRACE_CTX_TASK && mmrace_rand_below(2))
		df_alloc(df);
	page = df_unhold(df);
	if (page)
		df_free(df, page);
}

static int df_setup(struct mmrace_run *r)
{
	unsigned int i;
	struct df *df;

	df = kzalloc(sizeof(*df), GFP_KERNEL);
	if (!df)
		return -ENOMEM;
	r->priv = df;
	df->r = r;
	df->pol = r->var->data;
	df->window_ns = df->pol->window_ns;
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
	INIT_LIST_HEAD(&df->free);
	init_llist_head(&df->llist);
	df->pages = kcalloc(df->nr, sizeof(*df->pages), GFP_KERNEL);
	df->held = kcalloc(df->nr, sizeof(*df->held), GFP_KERNEL);
	df->state = kcalloc(df->nr, sizeof(*df->state), GFP_KERNEL);
	if (!df->pages || !df->held || !df->state)
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
 */
#define DF_FLOOR_MIN_MS		2000
#define DF_IRQ_CTXS	(BIT(MMRACE_CTX_SOFTIRQ) | BIT(MMRACE_CTX_HRTIMER) | \
			 BIT(MMRACE_CTX_HARDIRQ) | BIT(MMRACE_CTX_IPI))

static bool df_floors(struct df *df)
{
	struct mmrace_run *r = df->r;
	u64 deferred = mmrace_stat_read(r, DF_DEFERRED_N);
	u64 drained = mmrace_stat_read(r, DF_DRAINED);
	u64 spins = mmrace_stat_read(r, DF_PENDING_SPINS);
	bool bad = false;

	if (df->pol->defer == DF_DIRECT || !(r->contexts & DF_IRQ_CTXS) ||
	    !mmrace_run_whole(r, DF_FLOOR_MIN_MS))
		return false;
	if (!deferred || !drained) {
		mmrace_floor_miss(r,
				  "deferred %llu, drained %llu: no free from IRQ context went through the deferral",
				  deferred, drained);
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
		  df->used != lost;
	if (recount)
		mmrace_invariant(r, "recount %u, nr_free %u, subpool used %ld; want %u, %u, %u",
				 listed, df->nr_free, df->used,
				 df->nr - lost, df->nr - lost, lost);
	if (mmrace_stat_read(r, DF_DOUBLE_FREE))
		mmrace_invariant(r, "%llu pages freed twice",
				 mmrace_stat_read(r, DF_DOUBLE_FREE));
	/* The drain printed the first cycle when it met it. */
	bad = lost || stale || recount || mmrace_stat_read(r, DF_DOUBLE_FREE) ||
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
	kfree(df);
	r->priv = NULL;
}

/*
 * How long a stalled producer waits for the drain to overtake it; the
 * drain usually arrives within tens of microseconds, even under TCG.
 */
static const struct df_policy df_direct = { DF_DIRECT, false, 0 };
static const struct df_policy df_xchg = { DF_XCHG, false, 100000 };
static const struct df_policy df_xchg_nopending = { DF_XCHG_NOPENDING, false, 100000 };
static const struct df_policy df_llist = { DF_LLIST, false, 0 };
static const struct df_policy df_irqsafe = { DF_DIRECT, true, 0 };

static const struct mmrace_variant df_variants[] = {
	{ "direct", "lockdep:inconsistent lock state",
	  "free takes the task-only locks from softirq and hardirq",
	  .duration_ms = 3000, .data = &df_direct },
	{ "xchg", "clean", "the posted xchg list with NEXT_PENDING",
	  .data = &df_xchg },
	{ "xchg_nopending", "mmrace:pages lost",
	  "the xchg list without the marker: the drain follows a stale next",
	  .data = &df_xchg_nopending },
	{ "llist", "clean", "what landed in 5.5: llist_add/llist_del_all",
	  .data = &df_llist },
	{ "irqsafe", "clean", "what landed in 5.13: IRQ-safe locks, no deferral",
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
