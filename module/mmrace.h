/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace: reimplementations of linux-mm mechanisms whose races took
 * weeks to find, driven from every context the threads talk about, so
 * that lockdep, RCU, DEBUG_LIST and the fault handler catch the posted
 * code and stay silent on what landed.
 *
 * A scenario is one const struct mmrace_scenario in its own file under
 * scenarios/, listed once in core.c.  The core owns everything else:
 * driver contexts, debugfs, knobs, stats, KTAP results and markers.
 *
 * This header is what a scenario needs and nothing more (as torture.h is
 * for rcutorture's users): the contexts, the variant, knob, stat and
 * scenario structs, the run and its helpers, randomness, lock classes,
 * invariants and floors.  The framework's own plumbing (slots, debugfs,
 * fault injection, the drivers, the runner) is in harness.h.
 */
#ifndef MMRACE_H
#define MMRACE_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/lockdep.h>

#define MMRACE_MAX_KNOBS	16
#define MMRACE_MAX_STATS	48
#define MMRACE_MAX_CPUS		64
#define MMRACE_MAX_LOCKS	8

/* The contexts a scenario operation can be called from. */
enum mmrace_ctx {
	MMRACE_CTX_TASK,	/* per-CPU stress kthreads */
	MMRACE_CTX_SOFTIRQ,	/* timer_list callbacks */
	MMRACE_CTX_HRTIMER,	/* hrtimer in HRTIMER_MODE_REL_SOFT */
	MMRACE_CTX_HARDIRQ,	/* irq_work on the local CPU */
	MMRACE_CTX_IPI,		/* smp_call_function_single() to another CPU */
	MMRACE_CTX_WQ,		/* a work item on the system workqueue */
	MMRACE_NR_CTX
};

#define MMRACE_CTX_ALL		((1U << MMRACE_NR_CTX) - 1)

extern const char *const mmrace_ctx_names[MMRACE_NR_CTX];

/*
 * A kernel fault as each arch words it, for a variant's expectation:
 * arch/x86/mm/fault.c names the page-fault error code ("#PF:
 * error_code(0x0003) - permissions violation") and the GPF its
 * non-canonical address ("0xdead0000000000f8", thread 001's words);
 * arch/arm64/mm/fault.c names the access ("Unable to handle kernel write
 * to read-only memory at virtual address ...") and prints addresses
 * without "0x", and its abort info names a missing PTE "level 3
 * translation fault".
 */
#ifdef CONFIG_X86
#define MMRACE_OOPS_RO_WRITE	"oops:permissions violation"
#define MMRACE_OOPS_NOT_PRESENT	"oops:not-present page"
#define MMRACE_OOPS_ADDR(a)	"oops:0x" a
#else
#define MMRACE_OOPS_RO_WRITE	"oops:write to read-only memory"
#define MMRACE_OOPS_NOT_PRESENT	"oops:level 3 translation fault"
#define MMRACE_OOPS_ADDR(a)	"oops:virtual address " a
#endif

struct mmrace_variant {
	const char *name;
	/*
	 * "clean", or "<kind>:<headline>" naming the detector that must
	 * fire ("lockdep:inconsistent lock state"); alternatives are joined
	 * with '|'.  scripts/judge.py matches it against the console.
	 */
	const char *expect;
	const char *doc;
	/* Defaults that differ from the scenario's, e.g. a longer run. */
	u64 duration_ms;
	/*
	 * Contexts driven unless the user says, when the thread names fewer
	 * than the scenario's (defer_free/direct: task and softirq, as the
	 * I/O completion of 000 was a softirq).  0: the scenario's.
	 */
	unsigned int contexts;
	/*
	 * Knob defaults of this variant's own, "name=value ...", set when
	 * the variant is chosen (writes after that win): where the row
	 * needs a setting to reach its detector at all, as xchg_plain's
	 * stall_pct=100 for KCSAN's sampling.  NULL: the scenario's.
	 */
	const char *knobs;
	/* The scenario's own description of how this variant behaves. */
	const void *data;
};

struct mmrace_knob {
	const char *name;
	u64 def;
	u64 min;
	u64 max;
	const char *doc;
};

enum mmrace_stat_kind {
	MMRACE_SUM,	/* per-CPU counter, summed on read */
	MMRACE_MAX,	/* largest value seen */
};

struct mmrace_stat {
	const char *name;
	enum mmrace_stat_kind kind;
};

struct mmrace_run;
struct dentry;

struct mmrace_scenario {
	const char *name;
	const char *doc;
	const struct mmrace_variant *variants;
	unsigned int nr_variants;
	const struct mmrace_knob *knobs;
	unsigned int nr_knobs;
	const struct mmrace_stat *stats;
	unsigned int nr_stats;
	/* Contexts the drivers call ->op() from unless the user says. */
	unsigned int contexts;
	/* Ops a clean run must have done, in all, to count as clean. */
	u64 min_ops;
	/* Default run length; a variant's own overrides it. */
	u64 duration_ms;

	int (*setup)(struct mmrace_run *r);
	/* One operation; must not sleep unless @ctx is TASK or WQ. */
	void (*op)(struct mmrace_run *r, enum mmrace_ctx ctx);
	/* After every driver has stopped: drain what is still deferred. */
	void (*stop)(struct mmrace_run *r);
	/* Invariants; print what broke with mmrace_invariant(), return -EIO. */
	int (*check)(struct mmrace_run *r);
	/* Also after a failed ->setup(): must undo whatever it got to. */
	void (*teardown)(struct mmrace_run *r);
	/*
	 * Optional, at load: files of the scenario's own in its debugfs
	 * directory (removed with it at unload), e.g. a kernel fault attr.
	 */
	void (*debugfs)(struct dentry *dir);
};

/* Knobs every scenario has; the scenario's own ones follow them. */
enum mmrace_core_knob {
	MMRACE_K_DURATION,
	MMRACE_K_CONTEXTS,
	MMRACE_K_THREADS,
	MMRACE_K_PERIOD_US,
	MMRACE_K_BURST,
	MMRACE_NR_CORE_KNOBS
};

struct mmrace_drivers;

/* One run of one variant: created by "run", freed by the next or rmmod. */
struct mmrace_run {
	const struct mmrace_scenario *sc;
	const struct mmrace_variant *var;
	unsigned int variant;
	u64 knob[MMRACE_NR_CORE_KNOBS + MMRACE_MAX_KNOBS];
	unsigned int contexts;		/* contexts really started */

	/* Hot-path counters: plain per-CPU increments, summed on read. */
	u64 __percpu *stat;
	u64 __percpu *ops;		/* [MMRACE_NR_CTX] */
	atomic64_t max[MMRACE_MAX_STATS];

	bool stopping;			/* READ_ONCE() in every loop */
	bool whole;			/* ran all duration_ms, unstopped */
	/*
	 * Sets @stopping at the end of duration_ms from hardirq: when every
	 * CPU spins on what a bug variant broke (collapse/freeze), the
	 * control thread cannot run to say so, but interrupts still do.
	 */
	struct hrtimer deadline;
	struct completion stop_req;
	struct completion done;
	struct task_struct *ctl;
	struct mmrace_drivers *drv;
	u64 t_start_ns, t_end_ns;
	int result;			/* 0 ok, -EIO invariant, <0 setup */
	const char *skip;		/* non-NULL: SKIP with this reason */
	unsigned int ktap_nr;
	/* What a bug variant's detector leaves behind, sampled at BEGIN. */
	bool debug_locks0;
	unsigned long taint0;
	struct lock_class_key lock_keys[MMRACE_MAX_LOCKS];
	unsigned int nr_lock_keys;

	void *priv;			/* the scenario's own state */
	/* Freed after a grace period: "run" and "status" read it unlocked. */
	struct rcu_head rcu;
};

static inline u64 mmrace_knob(const struct mmrace_run *r, unsigned int i)
{
	return r->knob[MMRACE_NR_CORE_KNOBS + i];
}

static inline bool mmrace_stopping(const struct mmrace_run *r)
{
	return READ_ONCE(r->stopping);
}

static inline bool mmrace_variant_is(const struct mmrace_run *r,
				     const char *name)
{
	return !strcmp(r->var->name, name);
}

static inline void mmrace_stat_add(struct mmrace_run *r, unsigned int i, u64 v)
{
	this_cpu_add(r->stat[i], v);
}

static inline void mmrace_stat_inc(struct mmrace_run *r, unsigned int i)
{
	this_cpu_inc(r->stat[i]);
}

void mmrace_stat_max(struct mmrace_run *r, unsigned int i, u64 v);
u64 mmrace_stat_read(struct mmrace_run *r, unsigned int i);
u64 mmrace_ops_read(struct mmrace_run *r, enum mmrace_ctx ctx);

/*
 * Randomness for the operations, from any context.  Not get_random_*():
 * until the CRNG is ready (a TCG guest has no RDRAND and little entropy;
 * in ours it never became ready) every call takes base_crng.lock with IRQs
 * off, one lock for every CPU and context, which serialises the very
 * races mmrace provokes; on a loaded host it hung a pcp soak with both
 * CPUs' irq_work spinning on it (the host's NMI showed where).  A
 * per-CPU xorshift takes no lock: an interrupt landing between its load
 * and its store, or a migration, only repeats a number.
 */
DECLARE_PER_CPU(u32, mmrace_rand_state);

static inline u32 mmrace_rand(void)
{
	u32 x = raw_cpu_read(mmrace_rand_state);

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	raw_cpu_write(mmrace_rand_state, x);
	return x;
}

/* Uniform in [0, n), as get_random_u32_below() (Lemire's multiply-shift). */
static inline u32 mmrace_rand_below(u32 n)
{
	return (u32)(((u64)mmrace_rand() * n) >> 32);
}

/*
 * Every private lock gets a lockdep class named after what it models
 * ("mmrace_hugetlb_lock"), so that a splat names the lock that broke.
 * The key belongs to the run: each run starts with fresh lock classes,
 * so a clean variant is not blamed for the usage a previous variant of
 * the same boot registered.  Locks that share a class share a key.
 */
struct lock_class_key *mmrace_lock_key(struct mmrace_run *r);

static inline void mmrace_spin_lock_init_key(spinlock_t *lock,
					     struct lock_class_key *key,
					     const char *name)
{
	spin_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

static inline void mmrace_spin_lock_init(struct mmrace_run *r,
					 spinlock_t *lock, const char *name)
{
	mmrace_spin_lock_init_key(lock, mmrace_lock_key(r), name);
}

/*
 * For bug variants that take a task-only lock from an IRQ.  lockdep must
 * see a real spin_lock() there (a trylock marks no IN-*IRQ usage), but
 * the CPU must not then really deadlock on the task it interrupted, or
 * the guest dies before it can report.  If the trylock succeeds, no
 * context this IRQ interrupted holds the lock, and none can take it
 * before the IRQ returns: a holder on another CPU that slips in
 * between is just waited for.
 */
static inline bool mmrace_irq_spin_lock(spinlock_t *lock)
{
	if (!spin_trylock(lock))
		return false;
	spin_unlock(lock);
	spin_lock(lock);
	return true;
}

/* Report a broken invariant: one console line the judge recognises. */
__printf(2, 3) void mmrace_invariant(struct mmrace_run *r, const char *fmt, ...);

/*
 * Floors: what a clean variant must show it did (the race it guards
 * against really happened), beyond the core's ops per context.  A missed
 * floor is no INVARIANT (nothing broke): the run is "not ok", and the
 * judge fails a clean variant whose result is not ok.
 */
__printf(2, 3) void mmrace_floor_miss(struct mmrace_run *r, const char *fmt, ...);
/*
 * Whether a run may be held to its scenario's floors: it lasted its whole
 * duration_ms, of at least @min_ms.  Not a run stopped by hand or by
 * rmmod, nor the fuzzer's 200 ms runs: those may never meet a race.
 */
bool mmrace_run_whole(const struct mmrace_run *r, u64 min_ms);

/* Which driver context the caller is really in, for stats and asserts. */
enum mmrace_ctx mmrace_ctx_now(void);

/* drivers.c: raise one hardirq operation now (an irq_work on this CPU). */
void mmrace_raise_hardirq(struct mmrace_run *r);

/* The scenarios, one file each under scenarios/, tabled in core.c. */
extern const struct mmrace_scenario mmrace_selftest;
extern const struct mmrace_scenario mmrace_defer_free;
extern const struct mmrace_scenario mmrace_pcp;
extern const struct mmrace_scenario mmrace_hvo;
extern const struct mmrace_scenario mmrace_collapse;

#endif /* MMRACE_H */
