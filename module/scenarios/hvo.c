// SPDX-License-Identifier: GPL-2.0
/*
 * hvo: HugeTLB Vmemmap Optimization against speculative refcount getters
 * (linux-mm, Jan 2021 "[PATCH v13 05/12] mm: hugetlb: allocate the vmemmap
 * pages associated with each HugeTLB page", landed in 5.14 as ad2fa3717b74;
 * Feb 2024 "[PATCH v3 0/3] A Solution to Re-enable hugetlb vmemmap
 * optimize", fixed on x86 by bd225530a4c7 in 6.10).
 *
 * A private vmemmap: pages mmrace owns, vmap()ed with 4 KiB PTEs, holding
 * 64-byte descriptors modelled on struct page.  A folio of N descriptors
 * spans N / 64 descriptor pages.  Task context cycles each folio through
 * "small pages in the page cache" -> "huge folio, vmemmap optimized" ->
 * "restored, freed to buddy" -> small pages again, changing the real PTEs
 * and flushing the TLB on every CPU.  Every context runs speculative
 * getters: under rcu_read_lock() they pick a descriptor (from a lookup
 * table as filemap_get_entry() does, or any PFN as a PFN walker does),
 * take a reference with the atomic_add_unless() loop, re-check the lookup
 * and put the reference back.
 *
 * Arch-neutral: the PTEs are found with apply_to_existing_page_range()
 * (x86's lookup_address() has no arm64 twin), through init_mm found by
 * name (see hvo_init_mm()), written with set_pte() and pte_clear(),
 * and flushed with flush_tlb_kernel_range() where a module may call it
 * (compat.h).  Every variant but bbm changes a live PTE in place, as x86
 * allows; arm64 wants break-before-make for that (003), which bbm models.
 *
 *   posted          2021/2024 reasoning: a getter on an aliased tail is fine
 *                   "by coincidence".  The aliases are read-only and the
 *                   locked cmpxchg faults even when its compare fails.
 *   fixed           bd225530: getters skip fake heads, synchronize_rcu()
 *                   before fold and unfold, refcount frozen across both
 *   bbm             fixed, with break-before-make as arm64 must: a getter
 *                   touching a descriptor in the gap takes a not-present
 *                   fault
 *   skip_only       bd225530 without its synchronize_rcu() before the
 *                   remap: a getter that read a count before the fold and
 *                   does its cmpxchg after it still writes the alias
 *   retry_forever   v13 restore, msleep(100) and retry, in Mike's case:
 *                   the offline of a node's last section left the
 *                   __GFP_THISNODE allocation nothing to find.  The
 *                   offline never ends, and a second one waiting for
 *                   mem_hotplug_lock hangs (the hung-task detector)
 *   refuse          5.14: one __GFP_NORETRY try; on failure the folio stays
 *                   in the pool as surplus
 *   reserves        Mike's GFP_ATOMIC in a zone at its min watermark: the
 *                   restores take the reserve a softirq's GFP_ATOMIC needs
 *   atomic_restore  an optimized folio freed from softirq or hardirq is
 *                   restored in place: GFP_KERNEL in atomic context, what
 *                   b65d4adbc0f0 deferred
 *   deferred_restore  b65d4adbc0f0 / 6.12: IRQ frees go to an llist that a
 *                   work item restores and frees
 *   reuse_folio     002, Rientjes and Muchun: when the allocation fails,
 *                   use part of the huge folio being freed as its own
 *                   vmemmap; always progresses, but those small pages
 *                   stay pinned as vmemmap instead of going to buddy
 *   offline_refuse  memory offline dissolving the last section of a node:
 *                   the __GFP_THISNODE allocation only finds the node's
 *                   free pages, which the offline isolates as it goes;
 *                   once they are gone dissolve returns -ENOMEM and the
 *                   folio stays
 *
 * Only refuse and reuse_folio inject restore allocation failures (10 %,
 * the fail_pct knob; 0 elsewhere): the others fail for the reason their
 * thread gives, or not at all.  Injected on every kernel and, where
 * CONFIG_FAULT_INJECTION_DEBUG_FS is set, by the fault attr
 * debugfs/mmrace/hvo/fail_restore/ (made at load, see hvo_debugfs()).
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/vmalloc.h>
#include <linux/rcupdate.h>
#include <linux/delay.h>
#include <linux/llist.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/smp.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/jiffies.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/kprobes.h>
#include <linux/pgtable.h>
#include "../mmrace.h"
#include "../compat.h"
#include "../trace.h"

/* Descriptor flags, after the page flags HVO looks at. */
#define HVO_HEAD	BIT(0)
#define HVO_TAIL	BIT(1)
/* reuse_folio: this small page holds vmemmap, it is not free memory. */
#define HVO_VMEMMAP	BIT(2)

/* One "struct page": 64 bytes, so 64 of them fill a descriptor page. */
struct hvo_desc {
	unsigned long flags;
	/* Tails: address of the head | 1, as page->compound_head. */
	unsigned long compound_head;
	atomic_t ref;
	u32 folio;
	unsigned long pad[5];
};

#define HVO_PER_PAGE	(PAGE_SIZE / sizeof(struct hvo_desc))

enum hvo_alloc {
	HVO_ALLOC_KERNEL,	/* GFP_KERNEL | __GFP_NORETRY, may fail */
	HVO_ALLOC_ATOMIC,	/* GFP_ATOMIC in a zone at its min watermark */
	HVO_ALLOC_THISNODE,	/* only the offlined node's pages: reserve */
};

enum hvo_on_fail {
	HVO_FAIL_RETRY,		/* msleep(retry_ms) and try again */
	HVO_FAIL_REFUSE,	/* keep the folio in the pool as surplus */
	HVO_FAIL_REUSE,		/* take a page of the folio being freed */
};

/* Where a vmemmap page came from, and so where an undo or remap puts it. */
enum hvo_src {
	HVO_SRC_BUDDY,		/* alloc_page(): back with __free_page() */
	HVO_SRC_RESERVE,	/* h->reserve: back there */
	HVO_SRC_SELF,		/* reuse_folio: the folio's own page, h->self */
};

struct hvo_policy {
	bool skip_fake_head;	/* getters: page_is_fake_head() */
	bool sync_rcu;		/* synchronize_rcu() before fold/unfold */
	bool freeze;		/* head refcount 0 across the remap */
	bool bbm;		/* clear, flush, then set the PTE */
	enum hvo_alloc alloc;
	enum hvo_on_fail on_fail;
	/*
	 * BIT(MMRACE_CTX_*) of the contexts that drop the last reference of
	 * folios in use, which free_huge_folio() then frees: softirq and
	 * hardirq (an I/O completion), and TASK, which stands for a task
	 * with BHs off.  With @defer the free goes through an llist and a
	 * work item, as b65d4adbc0f0 does.
	 */
	u32 free_ctx;
	bool defer;
	unsigned int fail_pct;	/* injected restore allocation failures */
	unsigned int reserve;	/* reserve_pages unless the user says */
	/*
	 * Clean variants: BIT(HVO_S_*) of the stats that must not end at 0,
	 * or the run did not exercise what it claims to prove clean.
	 */
	u32 floors;
};

/* The driver contexts that are interrupts. */
#define HVO_IRQ_CTX	(BIT(MMRACE_CTX_SOFTIRQ) | BIT(MMRACE_CTX_HRTIMER) | \
			 BIT(MMRACE_CTX_HARDIRQ))

/* trace_mmrace_fallback()'s val: what the policy did on a failed alloc. */
enum hvo_fallback {
	HVO_FB_RETRY = 1,	/* retry_forever: sleep and try again */
	HVO_FB_REFUSE,		/* the folio stays in the pool as surplus */
	HVO_FB_RESERVE,		/* a page from the private reserve */
	HVO_FB_SELF,		/* reuse_folio: a page of the folio itself */
};

/*
 * Where a folio is in its life; only the claimer changes it.  SMALL:
 * N pages in the page cache, one reference each.  POOL: a free huge
 * folio, vmemmap optimized, refcount 0.  INUSE: the same, allocated.
 */
enum hvo_state { HVO_SMALL, HVO_POOL, HVO_INUSE };

struct hvo_folio {
	unsigned long busy;	/* bit 0: a task owns the next step */
	enum hvo_state state;
	bool optimized;		/* tail PTEs alias the head page */
	/*
	 * A getter may meet a fake head: from the remap's first PTE write
	 * until hvo_make_small() rewrites the descriptors the restore copied
	 * from the head page (a copy of a head page still shows a head).
	 */
	bool aliased;
	bool surplus;		/* a free was refused: kept in the pool */
	u64 retries;		/* of the pending restore */
	struct llist_node ll;	/* deferred_restore: on hvo->free_list */
};

enum {
	HVO_S_REMAP, HVO_S_RESTORE, HVO_S_ALLOC_FAIL, HVO_S_RETRY,
	HVO_S_REFUSED, HVO_S_RESERVE_USED,
	HVO_S_ABORTED, HVO_S_SYNC_RCU, HVO_S_BBM_GAPS, HVO_S_PAGES_ALLOC,
	HVO_S_PAGES_FREED, HVO_S_READ, HVO_S_GET,
	HVO_S_ALIAS_HIT, HVO_S_FAKE_SKIP, HVO_S_LOST_REF, HVO_S_FREEZE_SPINS,
	HVO_S_MAX_RESTORE_MS, HVO_S_SURPLUS_END,
	HVO_S_ON_OPTIMIZED, HVO_S_ALIAS_PERMILLE, HVO_S_ALIAS_EXPECT_PERMILLE,
	HVO_S_INJECTED, HVO_S_NODE_ISOLATED, HVO_S_RESERVE_END,
	HVO_S_SELF_REUSED, HVO_S_SELF_PINNED_END, HVO_S_HOTPLUG_WAIT,
	HVO_S_IRQ_FREE, HVO_S_IRQ_DEFERRED, HVO_S_ATOMIC_ALLOC,
	HVO_S_ATOMIC_FAIL, HVO_NR
};

static const struct mmrace_stat hvo_stats[HVO_NR] = {
	[HVO_S_REMAP] = { "remap_free", MMRACE_SUM },
	[HVO_S_RESTORE] = { "restore", MMRACE_SUM },
	[HVO_S_ALLOC_FAIL] = { "alloc_fail", MMRACE_SUM },
	[HVO_S_RETRY] = { "retry", MMRACE_SUM },
	[HVO_S_REFUSED] = { "free_refused", MMRACE_SUM },
	/* Restore pages taken from the reserve, or the offlined node. */
	[HVO_S_RESERVE_USED] = { "reserve_used", MMRACE_SUM },
	[HVO_S_ABORTED] = { "restore_aborted", MMRACE_SUM },
	[HVO_S_SYNC_RCU] = { "synchronize_rcu", MMRACE_SUM },
	[HVO_S_BBM_GAPS] = { "bbm_gaps", MMRACE_SUM },
	[HVO_S_PAGES_ALLOC] = { "vmemmap_pages_alloc", MMRACE_SUM },
	[HVO_S_PAGES_FREED] = { "vmemmap_pages_freed", MMRACE_SUM },
	[HVO_S_READ] = { "reader_attempts", MMRACE_SUM },
	[HVO_S_GET] = { "reader_gets", MMRACE_SUM },
	[HVO_S_ALIAS_HIT] = { "alias_hits", MMRACE_SUM },
	[HVO_S_FAKE_SKIP] = { "fake_head_skips", MMRACE_SUM },
	[HVO_S_LOST_REF] = { "lost_refs", MMRACE_SUM },
	[HVO_S_FREEZE_SPINS] = { "freeze_spins", MMRACE_SUM },
	[HVO_S_MAX_RESTORE_MS] = { "max_restore_ms", MMRACE_MAX },
	[HVO_S_SURPLUS_END] = { "pool_surplus_end", MMRACE_SUM },
	/* Getters that found a descriptor of a folio whose tails alias. */
	[HVO_S_ON_OPTIMIZED] = { "reader_on_optimized", MMRACE_SUM },
	/* 1000 * alias_hits / reader_on_optimized, set at stop. */
	[HVO_S_ALIAS_PERMILLE] = { "alias_hit_permille", MMRACE_MAX },
	/* 1000 * (pages per folio - 1) / descs: "7 of the 512". */
	[HVO_S_ALIAS_EXPECT_PERMILLE] = { "alias_expect_permille", MMRACE_MAX },
	/* Of alloc_fail: failed on purpose (fail_pct or fail_restore). */
	[HVO_S_INJECTED] = { "alloc_fail_injected", MMRACE_SUM },
	/* offline_refuse: free pages the offline isolated. */
	[HVO_S_NODE_ISOLATED] = { "node_isolated", MMRACE_SUM },
	[HVO_S_RESERVE_END] = { "reserve_end", MMRACE_SUM },
	/* reuse_folio: restore pages taken from the folio being freed. */
	[HVO_S_SELF_REUSED] = { "self_reused", MMRACE_SUM },
	/* reuse_folio: small pages left holding vmemmap, not freed. */
	[HVO_S_SELF_PINNED_END] = { "self_pinned_end", MMRACE_SUM },
	/* Offlines (dissolves) that found mem_hotplug_lock held. */
	[HVO_S_HOTPLUG_WAIT] = { "hotplug_lock_waits", MMRACE_SUM },
	/* Last puts of folios in use where one cannot sleep. */
	[HVO_S_IRQ_FREE] = { "atomic_frees", MMRACE_SUM },
	/* deferred_restore: of atomic_frees, from IRQs, left to the work. */
	[HVO_S_IRQ_DEFERRED] = { "irq_frees_deferred", MMRACE_SUM },
	/* reserves: the softirq consumer's GFP_ATOMIC allocations... */
	[HVO_S_ATOMIC_ALLOC] = { "atomic_allocs", MMRACE_SUM },
	/* ...and those that found the reserve empty. */
	[HVO_S_ATOMIC_FAIL] = { "atomic_alloc_fail", MMRACE_SUM },
};

enum {
	HVO_K_FOLIOS, HVO_K_DESCS, HVO_K_READS, HVO_K_WINDOW_NS, HVO_K_GAP_US,
	HVO_K_FAIL_PCT, HVO_K_RETRY_MS, HVO_K_RESERVE,
	HVO_K_EXPEDITED, HVO_K_ISOLATE,
};

/* fail_pct's default: each variant's own rate, so that 0 can mean none. */
#define HVO_FAIL_PCT_VARIANT	101
/* reserve_pages' default: each variant's own. */
#define HVO_RESERVE_VARIANT	4097

static const struct mmrace_knob hvo_knobs[] = {
	[HVO_K_FOLIOS] = { "folios", 16, 1, 256, "huge folios in the vmemmap" },
	[HVO_K_DESCS] = { "descs", 512, 128, 4096,
		"descriptors per folio, a multiple of 64 (512: a 2 MiB page)" },
	[HVO_K_READS] = { "reads", 32, 1, 4096,
		"speculative gets per task-context op" },
	[HVO_K_WINDOW_NS] = { "window_ns", 500, 0, 100000,
		"getter delay between loading the refcount and the cmpxchg" },
	[HVO_K_GAP_US] = { "bbm_gap_us", 20, 0, 10000,
		"bbm: delay between break (clear+flush) and make" },
	[HVO_K_FAIL_PCT] = { "fail_pct", HVO_FAIL_PCT_VARIANT, 0,
		HVO_FAIL_PCT_VARIANT,
		"% of restore page allocations failed on purpose; 101: the variant's" },
	[HVO_K_RETRY_MS] = { "retry_ms", 100, 1, 10000,
		"retry_forever: sleep between allocation attempts" },
	[HVO_K_RESERVE] = { "reserve_pages", HVO_RESERVE_VARIANT, 0,
		HVO_RESERVE_VARIANT,
		"reserves: zone reserve; offline_*: node free pages; 4097: the variant's" },
	[HVO_K_EXPEDITED] = { "expedited", 1, 0, 1,
		"synchronize_rcu_expedited(): same guarantee, TCG grace periods take seconds" },
	[HVO_K_ISOLATE] = { "isolate_pages", 1, 0, 64,
		"offline_refuse: node free pages the offline isolates per dissolve" },
};

struct hvo {
	const struct hvo_policy *pol;
	struct mmrace_run *r;
	struct mm_struct *mm;		/* init_mm: hvo_init_mm() */
	unsigned int nr_folios, descs, pages_per_folio, nr_pages, nr_descs;
	unsigned int fail_pct;

	/* What backs PTE i: our page, or NULL while it aliases the head. */
	struct page **backing;
	struct page **orig;		/* what vmap() mapped; for vunmap only */
	struct hvo_desc *vmm;		/* vmap() of orig[] */
	pte_t **ptep;			/* PTE of each descriptor page */
	struct page **spare;		/* restore scratch, per folio */
	u8 *spare_src;			/* enum hvo_src of spare[i] */
	u8 *backing_src;		/* enum hvo_src of backing[i] */
	/*
	 * reuse_folio: data pages 1..pages-1 of each folio, by PTE slot,
	 * while they are not in use as its vmemmap.  Their descriptors sit
	 * in the head's vmemmap page, which is never remapped: nothing
	 * here "covers itself" (Hildenbrand's worry in 002), a choice the
	 * kernel would have to make too.
	 */
	struct page **self;
	struct hvo_folio *folios;

	/* The lookup a filemap-style getter starts from, by PFN. */
	struct hvo_desc __rcu **table;

	/*
	 * reserves: the free pages of a zone held at its min watermark,
	 * which only GFP_ATOMIC may take; offline_*: the free pages of the
	 * node being offlined, the only ones __GFP_THISNODE may take.
	 * Taken from softirq too (reserves): IRQ-safe.
	 */
	spinlock_t reserve_lock;	/* mmrace_hvo_reserve_lock: reserve */
	struct page **reserve;
	unsigned int nr_reserve, reserve_left;
	bool reserve_reported;
	atomic_t restoring;		/* restores in flight */

	/*
	 * offline_*: mem_hotplug_lock, which offline_pages() holds for
	 * write (mem_hotplug_begin()) across every dissolve of the section
	 * it offlines.  An rw_semaphore: a waiter sleeps uninterruptibly,
	 * as in percpu_down_write() and percpu_down_read().
	 */
	struct rw_semaphore hotplug_lock;	/* mmrace_mem_hotplug_lock */

	/* deferred_restore: hpage_freelist and free_hpage_work. */
	struct llist_head free_list;
	struct work_struct free_work;

	atomic_long_t owned;		/* descriptor pages we hold */
};

#ifdef CONFIG_FAULT_INJECTION
/*
 * The issue: restore allocation failure injectable "through a kernel
 * fault-injection attr where CONFIG_FAULT_INJECTION is set".  Off until
 * probability (and times) are written, as every fault attr.
 */
static DECLARE_FAULT_ATTR(hvo_fail_restore);
#endif

/* debugfs/mmrace/hvo/fail_restore/, created at load with hvo's directory. */
static void hvo_debugfs(struct dentry *dir)
{
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	/*
	 * Quiet by default: verbose 2 dumps a stack per failure with no
	 * rate limit, thousands a second at probability 100; the stat
	 * alloc_fail_injected counts them.
	 */
	hvo_fail_restore.verbose = 0;
	fault_create_debugfs_attr("fail_restore", dir, &hvo_fail_restore);
#endif
}

/* A restore page allocation failed on purpose: the attr, then the knob. */
static bool hvo_inject_fail(struct hvo *h)
{
#ifdef CONFIG_FAULT_INJECTION
	if (should_fail(&hvo_fail_restore, PAGE_SIZE))
		return true;
#endif
	return h->fail_pct && mmrace_rand_below(100) < h->fail_pct;
}

static struct hvo_desc *hvo_desc(struct hvo *h, unsigned int pfn)
{
	return &h->vmm[pfn];
}

static struct hvo_desc *hvo_head(struct hvo *h, unsigned int folio)
{
	return hvo_desc(h, folio * h->descs);
}

static void *hvo_page_va(struct hvo *h, unsigned int slot)
{
	return (void *)h->vmm + (size_t)slot * PAGE_SIZE;
}

/*
 * PTE slots [first, first + n) changed: no CPU uses their old
 * translations once this returns, so their old pages may be reused.
 */
static void hvo_flush(struct hvo *h, unsigned int first, unsigned int n)
{
	unsigned long start = (unsigned long)hvo_page_va(h, first);

	mmrace_flush_tlb_kernel_range(start, start + (size_t)n * PAGE_SIZE);
}

/*
 * set_pte(), not set_pte_at() as vmemmap_remap_pte() has it: arm64's
 * set_pte_at() may call mte_sync_tags(), which modules cannot link to.
 * For a kernel PTE it adds nothing: the tags of a kernel page are not
 * user-visible, and arm64's set_pte() has the barriers.
 */
static void hvo_set_pte(struct hvo *h, unsigned int slot, struct page *page,
			pgprot_t prot)
{
	set_pte(h->ptep[slot], mk_pte(page, prot));
}

/* bbm's break: the slot maps nothing until hvo_set_pte() makes it. */
static void hvo_clear_pte(struct hvo *h, unsigned int slot)
{
	pte_clear(h->mm, (unsigned long)hvo_page_va(h, slot), h->ptep[slot]);
}

/*
 * page_fixed_fake_head(): only a page-aligned descriptor can be a fake
 * head, and its neighbour then sits in the same descriptor page.
 */
static bool hvo_fake_head(const struct hvo_desc *d)
{
	unsigned long head;

	if (!IS_ALIGNED((unsigned long)d, PAGE_SIZE) ||
	    !(READ_ONCE(d->flags) & HVO_HEAD))
		return false;
	head = READ_ONCE(d[1].compound_head);
	return (head & 1) && head - 1 != (unsigned long)d;
}

/*
 * atomic_add_unless(&d->ref, 1, 0) as the kernel implements it, a load
 * then a cmpxchg loop, with the window between them widened.  x86's
 * locked cmpxchg writes even when the compare fails, and arm64's LSE CAS
 * needs write permission even then (thread 003): on a read-only alias
 * both fault whatever the count is.  An LL/SC loop (arm64 without
 * CONFIG_ARM64_USE_LSE_ATOMICS) never stores on a failed compare: there
 * skip_only ran clean, 0 faults in 41 s.  noinline: the oops's PC names
 * it.
 */
static noinline bool hvo_ref_add_unless(struct hvo *h, struct hvo_desc *d)
{
	int c = atomic_read(&d->ref);

	if (!c)
		return false;
	ndelay(mmrace_knob(h->r, HVO_K_WINDOW_NS));
	do {
		if (!c)
			return false;
	} while (!atomic_try_cmpxchg(&d->ref, &c, c + 1));
	return true;
}

/* page_ref_add_unless() as the getter of each variant has it. */
static bool hvo_try_get(struct hvo *h, struct hvo_desc *d)
{
	bool ret = false;

	/* The fix's own RCU section: synchronize_rcu() waits for it. */
	rcu_read_lock();
	if (hvo_fake_head(d)) {
		mmrace_stat_inc(h->r, HVO_S_ALIAS_HIT);
		if (h->pol->skip_fake_head) {
			mmrace_stat_inc(h->r, HVO_S_FAKE_SKIP);
			goto out;
		}
	}
	ret = hvo_ref_add_unless(h, d);
out:
	rcu_read_unlock();
	return ret;
}

static void hvo_put(struct hvo *h, struct hvo_desc *d)
{
	/* The owner holds a reference while a getter can get one. */
	if (atomic_dec_return(&d->ref) <= 0) {
		if (!mmrace_stat_read(h->r, HVO_S_LOST_REF))
			mmrace_invariant(h->r, "getter dropped the last ref of descriptor %ld",
					 (long)(d - h->vmm));
		mmrace_stat_inc(h->r, HVO_S_LOST_REF);
	}
}

/*
 * One speculative getter: filemap_get_entry() from the table, or a PFN
 * walker on any descriptor, tails included.  Both re-check the lookup
 * and, being done, put the reference back.
 */
static noinline void hvo_read(struct hvo *h)
{
	unsigned int pfn = mmrace_rand_below(h->nr_descs);
	bool walker = mmrace_rand_below(2);
	struct hvo_desc *d;

	mmrace_stat_inc(h->r, HVO_S_READ);
	rcu_read_lock();
	d = walker ? hvo_desc(h, pfn) : rcu_dereference(h->table[pfn]);
	if (!d)
		goto out;
	/*
	 * alias_hits' denominator: of the descs a folio has, pages - 1 are
	 * fake heads while it is aliased (7 of 512).
	 */
	if (READ_ONCE(h->folios[pfn / h->descs].aliased))
		mmrace_stat_inc(h->r, HVO_S_ON_OPTIMIZED);
	if (!hvo_try_get(h, d))
		goto out;
	mmrace_stat_inc(h->r, HVO_S_GET);
	/* A lookup that moved on or not, the reference goes back. */
	hvo_put(h, d);
out:
	rcu_read_unlock();
}

/*
 * page_ref_freeze(): the owner's last reference, taken only when no
 * getter holds one; getters hold theirs for a few hundred ns.
 */
static void hvo_freeze(struct hvo *h, struct hvo_desc *d)
{
	unsigned int spins = 0;

	while (atomic_cmpxchg(&d->ref, 1, 0) != 1) {
		if (!(++spins & 1023))
			cond_resched();
		cpu_relax();
	}
	if (spins)
		mmrace_stat_add(h->r, HVO_S_FREEZE_SPINS, spins);
}

/*
 * bd225530: every getter that may have loaded a count through the old
 * mapping has left its RCU section before the PTEs change.
 */
static void hvo_sync_rcu(struct hvo *h)
{
	if (!h->pol->sync_rcu)
		return;
	if (mmrace_knob(h->r, HVO_K_EXPEDITED))
		synchronize_rcu_expedited();
	else
		synchronize_rcu();
	mmrace_stat_inc(h->r, HVO_S_SYNC_RCU);
}

static struct page *hvo_reserve_take(struct hvo *h)
{
	struct page *page = NULL;
	unsigned long flags;

	spin_lock_irqsave(&h->reserve_lock, flags);
	if (h->reserve_left)
		page = h->reserve[--h->reserve_left];
	spin_unlock_irqrestore(&h->reserve_lock, flags);
	return page;
}

/*
 * Into the reserve if it is below its size: a page hvo_reserve_take()
 * gave (there is room), or (reserves) a freed page, which lifts a zone
 * below its watermark before anyone else may have it.
 */
static bool hvo_reserve_put(struct hvo *h, struct page *page)
{
	unsigned long flags;
	bool ret = false;

	spin_lock_irqsave(&h->reserve_lock, flags);
	if (h->reserve_left < h->nr_reserve) {
		h->reserve[h->reserve_left++] = page;
		ret = true;
	}
	spin_unlock_irqrestore(&h->reserve_lock, flags);
	return ret;
}

/*
 * reserves: a restored folio's 512 pages reach buddy.  The zone's free
 * count rises, and its reserve is full again before a GFP_KERNEL
 * allocation passes the watermark: the restores' drain lasts only while
 * they are in flight.  Pages from the real buddy stand for them.
 */
static void hvo_reserve_refill(struct hvo *h)
{
	struct page *page;

	while (READ_ONCE(h->reserve_left) < h->nr_reserve) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			return;
		if (!hvo_reserve_put(h, page)) {
			__free_page(page);
			return;
		}
	}
}

/*
 * reserves: a softirq's GFP_ATOMIC allocation, a network receive refill
 * say, in the same zone, with the same right to its reserve as the
 * restores.  Given back at once (the buffer is recycled): it fails only
 * while the restores in flight hold the whole reserve.
 */
static void hvo_atomic_consumer(struct hvo *h, enum mmrace_ctx ctx)
{
	struct page *page = hvo_reserve_take(h);

	mmrace_stat_inc(h->r, HVO_S_ATOMIC_ALLOC);
	if (page) {
		hvo_reserve_put(h, page);
		return;
	}
	mmrace_stat_inc(h->r, HVO_S_ATOMIC_FAIL);
	if (!xchg(&h->reserve_reported, true))
		mmrace_invariant(h->r,
				 "reserves: %s GFP_ATOMIC allocation failed: %u-page reserve empty, %d %s, %llu restore pages taken from it",
				 mmrace_ctx_names[ctx], h->nr_reserve,
				 atomic_read(&h->restoring), "restores in flight",
				 mmrace_stat_read(h->r, HVO_S_RESERVE_USED));
}

/*
 * Memory offline of the node's last section (Mike Kravetz in 002): as
 * offline_pages() isolates the section, the node's free pages stop being
 * allocatable, a few per dissolve attempt here, until none is left.
 */
static void hvo_offline_isolate(struct hvo *h)
{
	unsigned int n = mmrace_knob(h->r, HVO_K_ISOLATE);
	struct page *page;

	while (n-- && (page = hvo_reserve_take(h))) {
		__free_page(page);
		mmrace_stat_inc(h->r, HVO_S_NODE_ISOLATED);
	}
}

/* A restore or remap is done with @page: back where it came from. */
static void hvo_page_put(struct hvo *h, unsigned int slot, struct page *page,
			 enum hvo_src src)
{
	switch (src) {
	case HVO_SRC_RESERVE:
		hvo_reserve_put(h, page);
		break;
	case HVO_SRC_SELF:
		h->self[slot] = page;
		break;
	default:
		/* reserves: a freed page tops the zone up first. */
		if (h->pol->alloc != HVO_ALLOC_ATOMIC ||
		    !hvo_reserve_put(h, page))
			__free_page(page);
	}
}

/*
 * vmemmap_remap_free(): the tail descriptor pages map the head page
 * read-only, every CPU forgets the old translation, then the tail pages
 * go back to the buddy allocator.
 */
static void hvo_remap_free(struct hvo *h, unsigned int folio)
{
	unsigned int first = folio * h->pages_per_folio, i;
	struct page *head = h->backing[first];

	WRITE_ONCE(h->folios[folio].aliased, true);
	if (h->pol->bbm) {
		for (i = 1; i < h->pages_per_folio; i++)
			hvo_clear_pte(h, first + i);
		hvo_flush(h, first + 1, h->pages_per_folio - 1);
		mmrace_stat_inc(h->r, HVO_S_BBM_GAPS);
		udelay(mmrace_knob(h->r, HVO_K_GAP_US));
	}
	for (i = 1; i < h->pages_per_folio; i++)
		hvo_set_pte(h, first + i, head, PAGE_KERNEL_RO);
	hvo_flush(h, first + 1, h->pages_per_folio - 1);
	/* To buddy, or (reuse_folio) back into the huge folio it was part of. */
	for (i = 1; i < h->pages_per_folio; i++) {
		hvo_page_put(h, first + i, h->backing[first + i],
			     h->backing_src[first + i]);
		h->backing[first + i] = NULL;
	}
	atomic_long_sub(h->pages_per_folio - 1, &h->owned);
	mmrace_stat_add(h->r, HVO_S_PAGES_FREED, h->pages_per_folio - 1);
	WRITE_ONCE(h->folios[folio].optimized, true);
	mmrace_stat_inc(h->r, HVO_S_REMAP);
	/* val: the tail pages given back. */
	trace_mmrace_remap(folio, h->pages_per_folio - 1);
}

/*
 * One vmemmap page for a restore of @folio, as the variant's gfp mask
 * allows.  *src: HVO_SRC_RESERVE if the page came from h->reserve, so
 * that an undo gives it back there and not to buddy.
 */
static struct page *hvo_alloc_page(struct hvo *h, unsigned int folio,
				   u8 *src)
{
	struct page *page = NULL;

	*src = HVO_SRC_BUDDY;
	if (hvo_inject_fail(h)) {
		mmrace_stat_inc(h->r, HVO_S_INJECTED);
		goto fail;
	}
	/*
	 * __GFP_THISNODE: only what the node being offlined has left.
	 * GFP_ATOMIC in a zone at its min watermark: only its reserve,
	 * below the watermark, which a GFP_KERNEL try would not pass.
	 */
	if (h->pol->alloc != HVO_ALLOC_KERNEL) {
		page = hvo_reserve_take(h);
		if (!page)
			goto fail;
		/* An undo gives it back there; a restore keeps it. */
		*src = HVO_SRC_RESERVE;
		mmrace_stat_inc(h->r, HVO_S_RESERVE_USED);
		if (h->pol->alloc == HVO_ALLOC_ATOMIC)
			trace_mmrace_fallback(folio, HVO_FB_RESERVE);
		return page;
	}
	/*
	 * ad2fa3717b74's mask (__GFP_THISNODE aside).  From an interrupt
	 * (atomic_restore) this is the call that cannot be made.
	 */
	page = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	if (page)
		return page;
fail:
	mmrace_stat_inc(h->r, HVO_S_ALLOC_FAIL);
	return NULL;
}

/* The first @n pages a restore of @folio got, back where they came from. */
static void hvo_put_spares(struct hvo *h, unsigned int folio, unsigned int n)
{
	struct page **spare = h->spare + (size_t)folio * h->pages_per_folio;
	u8 *src = h->spare_src + (size_t)folio * h->pages_per_folio;
	unsigned int first = folio * h->pages_per_folio;

	/* A reserve page freed to buddy would drain the reserve for nothing. */
	while (n--)
		hvo_page_put(h, first + n + 1, spare[n], src[n]);
}

/* Allocate every tail page first: a partial restore is never mapped. */
static int hvo_alloc_tails(struct hvo *h, unsigned int folio)
{
	struct page **spare = h->spare + (size_t)folio * h->pages_per_folio;
	u8 *src = h->spare_src + (size_t)folio * h->pages_per_folio;
	unsigned int first = folio * h->pages_per_folio;
	unsigned int i, n = h->pages_per_folio - 1;
	unsigned int retry_ms = mmrace_knob(h->r, HVO_K_RETRY_MS);
	struct hvo_folio *f = &h->folios[folio];

	for (i = 0; i < n; i++) {
		spare[i] = hvo_alloc_page(h, folio, &src[i]);
		/*
		 * 002: "can we not use part of the hugetlb page that we're
		 * freeing": data page i + 1 of the folio holds tail i + 1.
		 */
		if (!spare[i] && h->pol->on_fail == HVO_FAIL_REUSE) {
			swap(spare[i], h->self[first + i + 1]);
			src[i] = HVO_SRC_SELF;
			mmrace_stat_inc(h->r, HVO_S_SELF_REUSED);
			trace_mmrace_fallback(folio, HVO_FB_SELF);
		}
		/* v13: "We should retry infinitely". */
		while (!spare[i] && h->pol->on_fail == HVO_FAIL_RETRY) {
			if (mmrace_stopping(h->r)) {
				mmrace_stat_inc(h->r, HVO_S_ABORTED);
				goto undo;
			}
			trace_mmrace_fallback(folio, HVO_FB_RETRY);
			msleep(retry_ms);
			WRITE_ONCE(f->retries, f->retries + 1);
			mmrace_stat_inc(h->r, HVO_S_RETRY);
			spare[i] = hvo_alloc_page(h, folio, &src[i]);
		}
		if (!spare[i])
			goto undo;
	}
	return 0;
undo:
	hvo_put_spares(h, folio, i);
	return -ENOMEM;
}

/*
 * vmemmap_remap_alloc(): new tail pages get a copy of the head page
 * (descriptors 1..63 are the tails every fake head would show), then
 * replace the read-only aliases with read-write mappings.
 */
static int hvo_restore(struct hvo *h, unsigned int folio)
{
	unsigned int first = folio * h->pages_per_folio, i;
	struct page **spare = h->spare + (size_t)folio * h->pages_per_folio;
	struct hvo_folio *f = &h->folios[folio];
	u64 t0 = local_clock();
	int ret;

	WRITE_ONCE(f->retries, 0);
	ret = hvo_alloc_tails(h, folio);
	mmrace_stat_max(h->r, HVO_S_MAX_RESTORE_MS,
			div_u64(local_clock() - t0, NSEC_PER_MSEC));
	if (ret)
		return ret;
	atomic_long_add(h->pages_per_folio - 1, &h->owned);
	mmrace_stat_add(h->r, HVO_S_PAGES_ALLOC, h->pages_per_folio - 1);

	/* A getter that loaded a count before the freeze must be done. */
	hvo_sync_rcu(h);
	for (i = 1; i < h->pages_per_folio; i++)
		copy_page(page_address(spare[i - 1]), hvo_page_va(h, first));
	if (h->pol->bbm) {
		for (i = 1; i < h->pages_per_folio; i++)
			hvo_clear_pte(h, first + i);
		hvo_flush(h, first + 1, h->pages_per_folio - 1);
		mmrace_stat_inc(h->r, HVO_S_BBM_GAPS);
		udelay(mmrace_knob(h->r, HVO_K_GAP_US));
	}
	for (i = 1; i < h->pages_per_folio; i++) {
		h->backing[first + i] = spare[i - 1];
		/*
		 * A reserve page is used up: the next remap frees it to
		 * buddy, as the GFP_ATOMIC dip would.  The folio's own page
		 * goes back into the folio.
		 */
		h->backing_src[first + i] =
			h->spare_src[first + i - 1] == HVO_SRC_SELF ?
			HVO_SRC_SELF : HVO_SRC_BUDDY;
		hvo_set_pte(h, first + i, spare[i - 1], PAGE_KERNEL);
	}
	hvo_flush(h, first + 1, h->pages_per_folio - 1);
	WRITE_ONCE(f->optimized, false);
	mmrace_stat_inc(h->r, HVO_S_RESTORE);
	/* val: the failed allocations retried on the way, 0 mostly. */
	trace_mmrace_restore(folio, READ_ONCE(f->retries));
	return 0;
}

/*
 * Small pages in the page cache: one reference each, findable.  Not a
 * data page that (reuse_folio) holds the folio's vmemmap: the vmemmap
 * holds its reference and no lookup finds it.
 */
static void hvo_make_small(struct hvo *h, unsigned int folio)
{
	unsigned int i, pfn = folio * h->descs, first = folio * h->pages_per_folio;

	for (i = 0; i < h->descs; i++, pfn++) {
		struct hvo_desc *d = hvo_desc(h, pfn);
		bool pinned = i && i < h->pages_per_folio &&
			      h->backing_src[first + i] == HVO_SRC_SELF;

		d->flags = pinned ? HVO_VMEMMAP : 0;
		d->compound_head = 0;
		d->folio = folio;
		atomic_set(&d->ref, 1);
		rcu_assign_pointer(h->table[pfn], pinned ? NULL : d);
	}
	h->folios[folio].state = HVO_SMALL;
}

/*
 * Truncation or reclaim, then alloc_fresh_hugetlb_folio(): the small
 * pages leave the cache and are frozen, become one compound folio, the
 * vmemmap is optimized and the folio enters the pool with refcount 0.
 * Only "fixed" keeps the head frozen across the remap; before bd225530
 * it carried the buddy allocator's reference until the pool took it.
 */
static void hvo_alloc_fresh(struct hvo *h, unsigned int folio)
{
	unsigned int i, pfn = folio * h->descs;
	struct hvo_desc *head = hvo_head(h, folio);

	for (i = 0; i < h->descs; i++)
		RCU_INIT_POINTER(h->table[pfn + i], NULL);
	for (i = 0; i < h->descs; i++)
		hvo_freeze(h, hvo_desc(h, pfn + i));
	head->flags = HVO_HEAD;
	for (i = 1; i < h->descs; i++) {
		struct hvo_desc *d = hvo_desc(h, pfn + i);

		d->flags = HVO_TAIL;
		WRITE_ONCE(d->compound_head, (unsigned long)head | 1);
	}
	if (!h->pol->freeze)
		atomic_set(&head->ref, 1);
	/* A getter that loaded a small page's count must be done. */
	hvo_sync_rcu(h);
	hvo_remap_free(h, folio);
	/* put_page() after prep: the pool holds free folios at 0. */
	if (!h->pol->freeze)
		hvo_freeze(h, head);
	h->folios[folio].state = HVO_POOL;
}

/* A hugetlbfs fault takes a pool folio: folio_ref_unfreeze(folio, 1). */
static void hvo_pool_alloc(struct hvo *h, unsigned int folio)
{
	struct hvo_desc *head = hvo_head(h, folio);

	atomic_set(&head->ref, 1);
	rcu_assign_pointer(h->table[folio * h->descs], head);
	h->folios[folio].state = HVO_INUSE;
}

/* Truncation of the hugetlbfs file: the last reference, back to pool. */
static void hvo_pool_put(struct hvo *h, unsigned int folio)
{
	RCU_INIT_POINTER(h->table[folio * h->descs], NULL);
	hvo_freeze(h, hvo_head(h, folio));
	h->folios[folio].state = HVO_POOL;
}

/*
 * Shrinking the pool, or offline dissolving it: update_and_free_hugetlb_folio()
 * restores the vmemmap and gives the folio to buddy as small pages; or,
 * if the restore fails, it stays in the pool as surplus (5.14).
 */
static void __hvo_free_huge(struct hvo *h, unsigned int folio)
{
	struct hvo_folio *f = &h->folios[folio];
	int ret;

	/* Until the folio is in buddy: its reserve pages are not back. */
	atomic_inc(&h->restoring);
	ret = hvo_restore(h, folio);
	if (ret) {
		atomic_dec(&h->restoring);
		if (mmrace_stopping(h->r))
			return;
		/* add_hugetlb_folio(h, folio, true); dissolve: -ENOMEM */
		f->surplus = true;
		mmrace_stat_inc(h->r, HVO_S_REFUSED);
		trace_mmrace_fallback(folio, HVO_FB_REFUSE);
		return;
	}
	f->surplus = false;
	hvo_make_small(h, folio);
	WRITE_ONCE(f->aliased, false);
	if (h->pol->alloc == HVO_ALLOC_ATOMIC)
		hvo_reserve_refill(h);
	atomic_dec(&h->restoring);
}

/*
 * offline_*: the free is dissolve_free_huge_page() in offline_pages(),
 * under mem_hotplug_begin().  One offline at a time: the next one (or
 * any get_online_mems() caller) sleeps in TASK_UNINTERRUPTIBLE until
 * this one is done.  In retry_forever it never is: khungtaskd reports
 * the waiter, not the offline, whose msleep(100) switches ten times a
 * second.
 */
static void hvo_free_huge(struct hvo *h, unsigned int folio)
{
	if (h->pol->alloc != HVO_ALLOC_THISNODE) {
		__hvo_free_huge(h, folio);
		return;
	}
	if (!down_write_trylock(&h->hotplug_lock)) {
		mmrace_stat_inc(h->r, HVO_S_HOTPLUG_WAIT);
		down_write(&h->hotplug_lock);
	}
	hvo_offline_isolate(h);
	__hvo_free_huge(h, folio);
	up_write(&h->hotplug_lock);
}

/* One step of one folio's life, in task context (it sleeps). */
static void hvo_step(struct hvo *h)
{
	unsigned int folio = mmrace_rand_below(h->nr_folios);
	struct hvo_folio *f = &h->folios[folio];

	if (test_and_set_bit_lock(0, &f->busy))
		return;
	switch (f->state) {
	case HVO_SMALL:
		hvo_alloc_fresh(h, folio);
		break;
	case HVO_POOL:
		if (mmrace_rand_below(2))
			hvo_pool_alloc(h, folio);
		else
			hvo_free_huge(h, folio);
		break;
	case HVO_INUSE:
		hvo_pool_put(h, folio);
		break;
	}
	clear_bit_unlock(0, &f->busy);
}

/*
 * free_hpage_workfn(): the frees IRQ context left, restored and freed
 * where GFP_KERNEL may sleep.  The folios stay busy until then.
 */
static void hvo_free_work(struct work_struct *work)
{
	struct hvo *h = container_of(work, struct hvo, free_work);
	struct llist_node *node = llist_del_all(&h->free_list);
	struct hvo_folio *f, *next;

	llist_for_each_entry_safe(f, next, node, ll) {
		hvo_free_huge(h, f - h->folios);
		clear_bit_unlock(0, &f->busy);
	}
}

/*
 * The last folio_put() of a folio in use where one cannot sleep (an I/O
 * completion in softirq or hardirq; a task with BHs off), while the pool
 * is above its target: free_huge_folio() gives it to buddy, and its
 * vmemmap must be restored first.
 */
static void hvo_irq_free(struct hvo *h, enum mmrace_ctx ctx)
{
	unsigned int folio = mmrace_rand_below(h->nr_folios);
	struct hvo_folio *f = &h->folios[folio];

	if (test_and_set_bit_lock(0, &f->busy))
		return;
	/* Not in use, or a getter holds a reference: not the last put. */
	if (f->state != HVO_INUSE ||
	    atomic_cmpxchg(&hvo_head(h, folio)->ref, 1, 0) != 1) {
		clear_bit_unlock(0, &f->busy);
		return;
	}
	RCU_INIT_POINTER(h->table[folio * h->descs], NULL);
	f->state = HVO_POOL;
	mmrace_stat_inc(h->r, HVO_S_IRQ_FREE);
	if (h->pol->defer) {
		/* update_and_free_hugetlb_folio(h, folio, true) */
		if (ctx != MMRACE_CTX_TASK)
			mmrace_stat_inc(h->r, HVO_S_IRQ_DEFERRED);
		if (llist_add(&f->ll, &h->free_list))
			schedule_work(&h->free_work);
		return;
	}
	/*
	 * No deferral: the restore allocates its pages here, GFP_KERNEL
	 * where one cannot sleep.  With BHs off in a task nothing but
	 * DEBUG_ATOMIC_SLEEP's might_sleep() sees it.  In an interrupt,
	 * might_alloc() takes lockdep's fs_reclaim map first, and lockdep
	 * reports an inconsistent {*IRQ-ON-W} -> {IN-*IRQ-W} usage of it
	 * before might_sleep() runs (atomic_restore_irq).  The model stops
	 * after the allocation: the rest of the restore (synchronize_rcu(),
	 * the TLB flush IPIs) would really sleep, or IPI from an interrupt.
	 * The pages go back, the folio stays free in the pool.
	 */
	if (!hvo_alloc_tails(h, folio))
		hvo_put_spares(h, folio, h->pages_per_folio - 1);
	clear_bit_unlock(0, &f->busy);
}

static void hvo_op(struct mmrace_run *r, enum mmrace_ctx ctx)
{
	struct hvo *h = r->priv;
	unsigned int i, n = 1;

	/* Not the hardirq: the thread's consumer is a softirq. */
	if (h->pol->alloc == HVO_ALLOC_ATOMIC &&
	    (ctx == MMRACE_CTX_SOFTIRQ || ctx == MMRACE_CTX_HRTIMER))
		hvo_atomic_consumer(h, ctx);
	if ((h->pol->free_ctx & BIT(ctx)) && !mmrace_rand_below(4)) {
		/*
		 * A folio_put() with BHs off, as the TCP close path of
		 * syzbot's 2021 report (defer_free/llist_bh) does, but under
		 * no softirq-safe lock: fs_reclaim under one would make
		 * lockdep speak first.
		 */
		if (ctx == MMRACE_CTX_TASK)
			local_bh_disable();
		hvo_irq_free(h, ctx);
		if (ctx == MMRACE_CTX_TASK)
			local_bh_enable();
	}
	if (ctx == MMRACE_CTX_TASK) {
		/* Half the task calls move a folio; remap needs IPIs, sleeps. */
		if (mmrace_rand_below(2))
			hvo_step(h);
		n = mmrace_knob(r, HVO_K_READS);
	}
	for (i = 0; i < n; i++)
		hvo_read(h);
}

/*
 * &init_mm, which owns the kernel page tables our vmap() area's PTEs are
 * in.  apply_to_existing_page_range() and the PTE writers take it, and it
 * is not exported (mm/init-mm.c, 6.1 and 6.12).  There is no exported,
 * arch-neutral way to a kernel address's PTE without it: x86 exports
 * lookup_address(), arm64 has no twin, and the generic walkers take the
 * mm (pgd_offset_k() names init_mm).  kallsyms_lookup_name() is not
 * exported either (5.7); register_kprobe() resolves a function's name,
 * so a kprobe registered disabled, never armed, gives its address, and
 * it gives init_mm's where CONFIG_KALLSYMS_ALL has data symbols.  Once a
 * load; NULL, with *why, when it cannot be had: the variant skips.
 */
typedef unsigned long (*hvo_lookup_fn)(const char *name);

static struct mm_struct *hvo_init_mm(const char **why)
{
	static struct mm_struct *init_mm_p;
	struct kprobe kp = {
		.symbol_name = "kallsyms_lookup_name",
		.flags = KPROBE_FLAG_DISABLED,
	};
	struct mm_struct *mm = READ_ONCE(init_mm_p);
	hvo_lookup_fn lookup;

	if (mm)
		return mm;
	if (!MMRACE_CALL_BY_NAME) {
		*why = "init_mm unexported; IBT or kCFI forbid calling kallsyms_lookup_name()";
		return NULL;
	}
	if (register_kprobe(&kp)) {
		*why = "init_mm unexported; no kprobe (KPROBES) finds kallsyms_lookup_name()";
		return NULL;
	}
	lookup = (hvo_lookup_fn)(unsigned long)kp.addr;
	unregister_kprobe(&kp);
	mm = (struct mm_struct *)lookup("init_mm");
	if (!mm) {
		*why = "init_mm unexported; kallsyms does not have it (KALLSYMS_ALL)";
		return NULL;
	}
	WRITE_ONCE(init_mm_p, mm);
	return mm;
}

/*
 * apply_to_existing_page_range() callback: the PTE of one page of our
 * area.  Kept only if it maps the page vmap() put there: until its 2025
 * fix the walk did not move on to the next PTE after a pte_none() one,
 * so a slot that is none, or a walk gone wrong, leaves a slot NULL and
 * the variant skips.  The pointer stays good until vunmap(): kernel PTE
 * tables are not freed under a live mapping.
 */
static int hvo_pte_found(pte_t *ptep, unsigned long addr, void *data)
{
	struct hvo *h = data;
	unsigned long slot = (addr - (unsigned long)h->vmm) >> PAGE_SHIFT;
	pte_t pte = ptep_get(ptep);

	if (slot < h->nr_pages && pte_present(pte) &&
	    pte_pfn(pte) == page_to_pfn(h->orig[slot]))
		h->ptep[slot] = ptep;
	return 0;
}

static int hvo_setup(struct mmrace_run *r)
{
	const char *why = NULL;
	unsigned int i;
	struct hvo *h;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	r->priv = h;
	h->r = r;
	h->pol = r->var->data;
	h->mm = hvo_init_mm(&why);
	if (!h->mm) {
		r->skip = why;
		return -EOPNOTSUPP;
	}
	/* First: teardown flushes it, whatever setup got to. */
	INIT_WORK(&h->free_work, hvo_free_work);
	init_llist_head(&h->free_list);
	h->nr_folios = mmrace_knob(r, HVO_K_FOLIOS);
	h->descs = mmrace_knob(r, HVO_K_DESCS);
	h->fail_pct = mmrace_knob(r, HVO_K_FAIL_PCT);
	if (h->fail_pct == HVO_FAIL_PCT_VARIANT)
		h->fail_pct = h->pol->fail_pct;
	if (h->descs % HVO_PER_PAGE) {
		pr_warn("hvo: descs must be a multiple of %lu\n", HVO_PER_PAGE);
		return -EINVAL;
	}
	h->pages_per_folio = h->descs / HVO_PER_PAGE;
	h->nr_pages = h->nr_folios * h->pages_per_folio;
	h->nr_descs = h->nr_folios * h->descs;
	mmrace_spin_lock_init(r, &h->reserve_lock, "mmrace_hvo_reserve_lock");
	init_rwsem(&h->hotplug_lock);
	lockdep_set_class_and_name(&h->hotplug_lock, mmrace_lock_key(r),
				   "mmrace_mem_hotplug_lock");

	h->backing = kcalloc(h->nr_pages, sizeof(*h->backing), GFP_KERNEL);
	h->orig = kcalloc(h->nr_pages, sizeof(*h->orig), GFP_KERNEL);
	h->ptep = kcalloc(h->nr_pages, sizeof(*h->ptep), GFP_KERNEL);
	h->spare = kcalloc(h->nr_pages, sizeof(*h->spare), GFP_KERNEL);
	h->spare_src = kcalloc(h->nr_pages, sizeof(*h->spare_src), GFP_KERNEL);
	h->backing_src = kcalloc(h->nr_pages, sizeof(*h->backing_src),
				 GFP_KERNEL);
	h->self = kcalloc(h->nr_pages, sizeof(*h->self), GFP_KERNEL);
	h->folios = kcalloc(h->nr_folios, sizeof(*h->folios), GFP_KERNEL);
	h->table = kvcalloc(h->nr_descs, sizeof(*h->table), GFP_KERNEL);
	if (!h->backing || !h->orig || !h->ptep || !h->spare ||
	    !h->spare_src || !h->backing_src || !h->self || !h->folios ||
	    !h->table)
		return -ENOMEM;
	for (i = 0; i < h->nr_pages; i++) {
		h->orig[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!h->orig[i])
			return -ENOMEM;
		h->backing[i] = h->orig[i];
		atomic_long_inc(&h->owned);
	}
	h->vmm = vmap(h->orig, h->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!h->vmm)
		return -ENOMEM;
	/*
	 * The walk calls back only at the last level: a slot gets a PTE
	 * that maps exactly its page, or none.  Teardown restores the slots
	 * that have one, after a failure here too, and vunmap()s the rest
	 * as vmap() mapped them.
	 */
	if (apply_to_existing_page_range(h->mm, (unsigned long)h->vmm,
					 (size_t)h->nr_pages * PAGE_SIZE,
					 hvo_pte_found, h)) {
		r->skip = "vmap() area: the page table walk failed";
		return -EOPNOTSUPP;
	}
	for (i = 0; i < h->nr_pages; i++) {
		if (!h->ptep[i]) {
			r->skip = "vmap() did not give one PTE per page";
			return -EOPNOTSUPP;
		}
	}

	if (h->pol->alloc != HVO_ALLOC_KERNEL) {
		h->nr_reserve = mmrace_knob(r, HVO_K_RESERVE);
		if (h->nr_reserve == HVO_RESERVE_VARIANT)
			h->nr_reserve = h->pol->reserve;
		h->reserve = kcalloc(h->nr_reserve ?: 1, sizeof(*h->reserve),
				     GFP_KERNEL);
		if (!h->reserve)
			return -ENOMEM;
		for (; h->reserve_left < h->nr_reserve; h->reserve_left++) {
			h->reserve[h->reserve_left] = alloc_page(GFP_KERNEL);
			if (!h->reserve[h->reserve_left])
				return -ENOMEM;
		}
	}
	/* The first data pages of each folio, the only part of it modelled. */
	for (i = 0; h->pol->on_fail == HVO_FAIL_REUSE && i < h->nr_pages; i++) {
		if (!(i % h->pages_per_folio))
			continue;
		h->self[i] = alloc_page(GFP_KERNEL);
		if (!h->self[i])
			return -ENOMEM;
	}
	for (i = 0; i < h->nr_folios; i++)
		hvo_make_small(h, i);
	return 0;
}

/* Drivers are stopped: record where the pool ended up. */
static void hvo_stop(struct mmrace_run *r)
{
	struct hvo *h = r->priv;
	unsigned int i;
	u64 on;

	/* The frees IRQ context deferred: nothing adds to them any more. */
	flush_work(&h->free_work);
	for (i = 0; i < h->nr_folios; i++)
		if (h->folios[i].surplus)
			mmrace_stat_inc(r, HVO_S_SURPLUS_END);
	mmrace_stat_add(r, HVO_S_RESERVE_END, h->reserve_left);
	for (i = 0; i < h->nr_pages; i++)
		if (h->backing[i] && h->backing_src[i] == HVO_SRC_SELF)
			mmrace_stat_inc(r, HVO_S_SELF_PINNED_END);
	on = mmrace_stat_read(r, HVO_S_ON_OPTIMIZED);
	if (on)
		mmrace_stat_max(r, HVO_S_ALIAS_PERMILLE,
				div64_u64(mmrace_stat_read(r, HVO_S_ALIAS_HIT) *
					  1000, on));
	mmrace_stat_max(r, HVO_S_ALIAS_EXPECT_PERMILLE,
			(h->pages_per_folio - 1) * 1000 / h->descs);
}

/* Every count is the owner's one reference or zero. */
static unsigned int hvo_check_refs(struct hvo *h, unsigned int folio)
{
	unsigned int i, bad = 0, pfn = folio * h->descs;
	unsigned int n = h->folios[folio].optimized ? HVO_PER_PAGE : h->descs;
	int want;

	for (i = 0; i < n; i++) {
		struct hvo_desc *d = hvo_desc(h, pfn + i);

		if (h->folios[folio].state == HVO_SMALL)
			want = 1;
		else
			want = !i && h->folios[folio].state == HVO_INUSE;
		if (atomic_read(&d->ref) != want) {
			if (!bad)
				mmrace_invariant(h->r, "folio %u desc %u: refcount %d, want %d",
						 folio, i, atomic_read(&d->ref),
						 want);
			bad++;
		}
	}
	return bad;
}

/*
 * A clean run proves the fix only if what it fixes ran: folios folded
 * and unfolded under the getters, fake heads met, frees refused.  The
 * core's work floor counts ops, and a run whose task contexts were
 * starved passes it having moved nothing.  Held only to a run that went
 * its whole duration_ms, and only where the knobs let a floor be reached
 * (task context driven; fail_pct 0 or 100 take some away; an IRQ context
 * for irq_frees_deferred).  Lowest values in the 18 default-knob runs per
 * variant that check (debug, stock), soak and bench left (4 s runs on
 * loaded hosts): remap_free 25 fixed, 86 refuse, 16 (one per folio)
 * offline_refuse; restore 13 fixed, 73 refuse; fake_head_skips 27 fixed;
 * free_refused 55 refuse, 26 offline_refuse.  deferred_restore, 3 debug
 * and 1 stock run: remap_free 86, restore 78, irq_frees_deferred 28.
 */
static unsigned int hvo_check_floors(struct hvo *h)
{
	struct mmrace_run *r = h->r;
	unsigned long floors = h->pol->floors;
	unsigned int i, bad = 0;

	if (!(r->contexts & BIT(MMRACE_CTX_TASK)) || !mmrace_run_whole(r, 0))
		return 0;
	if (h->fail_pct >= 100)
		floors &= ~BIT(HVO_S_RESTORE);
	if (!h->fail_pct && h->pol->alloc != HVO_ALLOC_THISNODE)
		floors &= ~(BIT(HVO_S_REFUSED) | BIT(HVO_S_SELF_REUSED));
	if (!(r->contexts & HVO_IRQ_CTX))
		floors &= ~BIT(HVO_S_IRQ_DEFERRED);
	for_each_set_bit(i, &floors, HVO_NR) {
		if (mmrace_stat_read(r, i))
			continue;
		mmrace_floor_miss(r, "%s is 0, the race did not run",
				  r->sc->stats[i].name);
		bad++;
	}
	return bad;
}

/* reuse_folio: each data page is in its folio or holds its vmemmap. */
static unsigned int hvo_check_self(struct hvo *h)
{
	unsigned int i, n = 0;

	if (h->pol->on_fail != HVO_FAIL_REUSE)
		return 0;
	for (i = 0; i < h->nr_pages; i++)
		n += !!h->self[i] + (h->backing[i] &&
				     h->backing_src[i] == HVO_SRC_SELF);
	if (n == h->nr_pages - h->nr_folios)
		return 0;
	mmrace_invariant(h->r, "reuse_folio: %u data pages accounted, want %u",
			 n, h->nr_pages - h->nr_folios);
	return 1;
}

static int hvo_check(struct mmrace_run *r)
{
	struct hvo *h = r->priv;
	unsigned int i, j, bad = 0;
	long want = 0, held = 0;

	for (i = 0; i < h->nr_folios; i++) {
		bad += hvo_check_refs(h, i);
		want += h->folios[i].optimized ? 1 : h->pages_per_folio;
		for (j = 0; j < h->pages_per_folio; j++)
			held += !!h->backing[i * h->pages_per_folio + j];
	}
	if (held != want || atomic_long_read(&h->owned) != want) {
		mmrace_invariant(r, "vmemmap pages: %ld held, %ld counted, want %ld",
				 held, atomic_long_read(&h->owned), want);
		bad++;
	}
	bad += hvo_check_self(h);
	if (mmrace_stat_read(r, HVO_S_LOST_REF))
		bad++;
	if (READ_ONCE(h->reserve_reported))
		bad++;
	if (!bad)
		bad += hvo_check_floors(h);
	return bad ? -EIO : 0;
}

/*
 * Every PTE back to a page we own, read-write, and flushed, before
 * vunmap(); then free exactly what we hold: tails given back by
 * remap_free are not ours any more.
 */
static void hvo_teardown(struct mmrace_run *r)
{
	struct hvo *h = r->priv;
	unsigned int i;

	if (!h)
		return;
	/* After a failed setup too: no driver ran, nothing is queued. */
	flush_work(&h->free_work);
	if (h->vmm) {
		/*
		 * A slot without a PTE (setup stopped before any remap) was
		 * never remapped: vunmap() alone is right for it.
		 */
		for (i = 0; i < h->nr_pages; i++) {
			unsigned int head = rounddown(i, h->pages_per_folio);

			if (h->ptep[i])
				hvo_set_pte(h, i, h->backing[i] ?:
					    h->backing[head], PAGE_KERNEL);
		}
		hvo_flush(h, 0, h->nr_pages);
		vunmap(h->vmm);
	}
	for (i = 0; h->backing && i < h->nr_pages; i++)
		if (h->backing[i])
			__free_page(h->backing[i]);
	for (i = 0; h->reserve && i < h->reserve_left; i++)
		__free_page(h->reserve[i]);
	for (i = 0; h->self && i < h->nr_pages; i++)
		if (h->self[i])
			__free_page(h->self[i]);
	kfree(h->self);
	kfree(h->backing_src);
	kfree(h->spare_src);
	kfree(h->reserve);
	kvfree(h->table);
	kfree(h->folios);
	kfree(h->spare);
	kfree(h->ptep);
	kfree(h->orig);
	kfree(h->backing);
	kfree(h);
	r->priv = NULL;
}

static const struct hvo_policy hvo_posted = {
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_RETRY,
};

static const struct hvo_policy hvo_fixed = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
	.floors = BIT(HVO_S_REMAP) | BIT(HVO_S_RESTORE) | BIT(HVO_S_FAKE_SKIP),
};

static const struct hvo_policy hvo_bbm = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true, .bbm = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
};

/*
 * bd225530 without its grace period: the getter skips fake heads and the
 * folio stays frozen, but a getter that loaded a small page's count
 * before the fold may cmpxchg after it, through the read-only alias.
 */
static const struct hvo_policy hvo_skip_only = {
	.skip_fake_head = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
};

/*
 * Muchun's v13 loop in Mike's case: offline_refuse's node, whose last
 * free pages the offline isolates, with "msleep(100); goto retry" for a
 * refusal.  Once the node has no free page left the allocation cannot
 * succeed, and nothing is injected.
 */
static const struct hvo_policy hvo_retry_forever = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_THISNODE, .on_fail = HVO_FAIL_RETRY, .reserve = 21,
};

static const struct hvo_policy hvo_refuse = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE, .fail_pct = 10,
	.floors = BIT(HVO_S_REMAP) | BIT(HVO_S_RESTORE) | BIT(HVO_S_REFUSED),
};

/*
 * Mike's "use GFP_ATOMIC to at least dip into reserves", where the pool
 * is shrunk because memory is short: the zone sits at its min watermark,
 * so GFP_ATOMIC is all a restore gets, and the reserve below it is
 * shared with every other atomic allocation.  A restored folio refills it
 * when it reaches buddy.  14 pages: two 2 MiB restores in flight take it
 * all.  The ratio is a gigantic page's: one 1 GiB restore needs 4094
 * pages, the whole min watermark of a 16 GiB machine (min_free_kbytes
 * 16 MiB).
 */
static const struct hvo_policy hvo_reserves = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_ATOMIC, .on_fail = HVO_FAIL_REFUSE, .reserve = 14,
};

/*
 * fixed, with frees where one cannot sleep and their restore in place:
 * b65d4adbc0f0 undone.  From a task with BHs off, and from interrupts.
 */
static const struct hvo_policy hvo_atomic_restore = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
	.free_ctx = BIT(MMRACE_CTX_TASK),
};

static const struct hvo_policy hvo_atomic_restore_irq = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
	.free_ctx = HVO_IRQ_CTX,
};

/*
 * 6.12: free_huge_folio() passes atomic = true, and
 * update_and_free_hugetlb_folio() defers every optimized folio.
 */
static const struct hvo_policy hvo_deferred_restore = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REFUSE,
	.free_ctx = HVO_IRQ_CTX | BIT(MMRACE_CTX_TASK), .defer = true,
	.floors = BIT(HVO_S_REMAP) | BIT(HVO_S_RESTORE) |
		  BIT(HVO_S_IRQ_DEFERRED),
};

static const struct hvo_policy hvo_reuse_folio = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_KERNEL, .on_fail = HVO_FAIL_REUSE, .fail_pct = 10,
	.floors = BIT(HVO_S_REMAP) | BIT(HVO_S_RESTORE) |
		  BIT(HVO_S_SELF_REUSED),
};

static const struct hvo_policy hvo_offline_refuse = {
	.skip_fake_head = true, .sync_rcu = true, .freeze = true,
	.alloc = HVO_ALLOC_THISNODE, .on_fail = HVO_FAIL_REFUSE, .reserve = 21,
	.floors = BIT(HVO_S_REMAP) | BIT(HVO_S_REFUSED),
};

/*
 * The fault in its arch's own words, one arch per kernel
 * (MMRACE_OOPS_*, mmrace.h): an expectation never accepts the other
 * arch's text.
 */
#define HVO_RO_FAULT	MMRACE_OOPS_RO_WRITE
#define HVO_NP_FAULT	MMRACE_OOPS_NOT_PRESENT

static const struct mmrace_variant hvo_variants[] = {
	{ "posted", HVO_RO_FAULT,
	  "getters cmpxchg a fake head's count through the read-only alias",
	  .data = &hvo_posted },
	{ "fixed", "clean",
	  "bd225530: skip fake heads, synchronize_rcu, frozen across the remap",
	  .data = &hvo_fixed },
	{ "bbm", HVO_NP_FAULT,
	  "fixed with break-before-make and no fault fixup, as arm64 needs",
	  .data = &hvo_bbm },
	/*
	 * 40 s: the window needs a getter preempted in its RCU section
	 * across a fold.  In 4 s runs it was hit in 5 of 10 boots (0.16 a
	 * second, about one fold in 360); 40 s miss e^-6.4, 0.2 %.
	 */
	{ "skip_only", HVO_RO_FAULT,
	  "bd225530's fake-head skip and freeze without its synchronize_rcu()",
	  .duration_ms = 40000, .data = &hvo_skip_only },
	/*
	 * 30 s: the node runs dry within seconds, khungtaskd (5 s on this
	 * boot) reports the waiter 5 to 10 s after it blocked.
	 */
	{ "retry_forever", "hung_task:blocked for more than",
	  "v13 msleep(100) retry in an offline of a node's last section: the next offline hangs",
	  .duration_ms = 30000, .data = &hvo_retry_forever },
	{ "refuse", "clean",
	  "5.14: on failure the folio stays in the pool as surplus",
	  .data = &hvo_refuse },
	{ "reserves", "mmrace:GFP_ATOMIC allocation failed",
	  "restores with GFP_ATOMIC at the min watermark: a softirq's GFP_ATOMIC fails",
	  .duration_ms = 8000, .data = &hvo_reserves },
	{ "atomic_restore", "sleep_in_atomic:sleeping function called from invalid context",
	  "an optimized folio freed with BHs off is restored in place, GFP_KERNEL",
	  .data = &hvo_atomic_restore },
	/*
	 * One in-place GFP_KERNEL allocation in an interrupt trips both
	 * lockdep's fs_reclaim map and, just after it, might_sleep(); with
	 * frees from interrupts on every CPU, two CPUs can be in it at once
	 * and either report can reach the console first (1 boot of 10 in
	 * the bench: CPU0's might_sleep before CPU1's lockdep).  Both are
	 * b65d4adbc0f0's reason; no other report is accepted.
	 */
	{ "atomic_restore_irq",
	  "lockdep:inconsistent lock state&fs_reclaim|sleep_in_atomic:sleeping function called from invalid context",
	  "the same from softirq and hardirq: lockdep's fs_reclaim map speaks first",
	  .data = &hvo_atomic_restore_irq },
	{ "deferred_restore", "clean",
	  "b65d4adbc0f0: IRQ frees go to an llist, a work item restores them",
	  .data = &hvo_deferred_restore },
	{ "reuse_folio", "clean",
	  "002: on failure the folio's own pages hold its vmemmap, kept from buddy",
	  .data = &hvo_reuse_folio },
	{ "offline_refuse", "clean",
	  "offline of a node's last section: its free pages run out, dissolve -ENOMEM",
	  .data = &hvo_offline_refuse },
};

const struct mmrace_scenario mmrace_hvo = {
	.name = "hvo",
	.doc = "vmemmap remap of huge folios against speculative refcount getters",
	.variants = hvo_variants,
	.nr_variants = ARRAY_SIZE(hvo_variants),
	.knobs = hvo_knobs,
	.nr_knobs = ARRAY_SIZE(hvo_knobs),
	.stats = hvo_stats,
	.nr_stats = ARRAY_SIZE(hvo_stats),
	/*
	 * Not IPI: while the movers sleep in synchronize_rcu() the CPUs go
	 * idle, and an idle-polling CPU runs smp_call_function callbacks
	 * from do_idle(), outside hardirq, where drivers.c warns.
	 */
	.contexts = MMRACE_CTX_ALL & ~BIT(MMRACE_CTX_IPI),
	/* synchronize_rcu() per fold and unfold: slow under TCG. */
	.min_ops = 500,
	.setup = hvo_setup,
	.op = hvo_op,
	.stop = hvo_stop,
	.check = hvo_check,
	.teardown = hvo_teardown,
	.debugfs = hvo_debugfs,
};
