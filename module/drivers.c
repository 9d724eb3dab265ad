// SPDX-License-Identifier: GPL-2.0
/*
 * The contexts a scenario's ->op() runs in, one driver each: per-CPU
 * stress kthreads, a pinned timer_list (softirq), a pinned soft hrtimer
 * (softirq, hrtimer flavour), irq_work raised from a hard hrtimer (so it
 * lands on top of whatever task holds a lock), IPIs to another CPU, and a
 * per-CPU work item.  Every callback asserts it runs where it claims, as
 * rcutorture's timer reader does, then does "burst" ops and re-arms
 * unless the run is stopping.
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/timer.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/workqueue.h>
#include <linux/smp.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <linux/cpumask.h>
#include <linux/sched/clock.h>
#include "harness.h"
#include "compat.h"

const char *const mmrace_ctx_names[MMRACE_NR_CTX] = {
	[MMRACE_CTX_TASK] = "task",
	[MMRACE_CTX_SOFTIRQ] = "softirq",
	[MMRACE_CTX_HRTIMER] = "hrtimer",
	[MMRACE_CTX_HARDIRQ] = "hardirq",
	[MMRACE_CTX_IPI] = "ipi",
	[MMRACE_CTX_WQ] = "wq",
};

struct mmrace_cpu_drv {
	struct mmrace_run *r;
	int cpu;
	struct timer_list timer;
	struct hrtimer soft;
	struct hrtimer hard;
	struct irq_work iw;
	u64 iw_took;		/* ns the last irq_work took */
	struct delayed_work work;
};

struct mmrace_drivers {
	struct task_struct *task[MMRACE_MAX_CPUS];
	struct task_struct *ipi;
	struct mmrace_cpu_drv cpu[MMRACE_MAX_CPUS];
};

enum mmrace_ctx mmrace_ctx_now(void)
{
	if (in_hardirq() || in_nmi())
		return MMRACE_CTX_HARDIRQ;
	if (in_serving_softirq())
		return MMRACE_CTX_SOFTIRQ;
	return MMRACE_CTX_TASK;
}

/*
 * One callback's burst may not keep an interrupt context longer than
 * this, whatever "burst" says: a user's knobs must not turn a clean
 * variant into a soft lockup (the debugfs fuzzer did exactly that).
 */
#define MMRACE_IRQ_BUDGET_NS	(2 * NSEC_PER_MSEC)

/*
 * noinline so that every splat's stack names the driver it came from.
 * Returns the time the ops took, for mmrace_next_ns().
 */
static noinline u64 mmrace_call(struct mmrace_run *r, enum mmrace_ctx ctx,
				unsigned int n)
{
	bool irq = ctx != MMRACE_CTX_TASK && ctx != MMRACE_CTX_WQ;
	u64 t0 = local_clock();

	while (n--) {
		r->sc->op(r, ctx);
		this_cpu_inc(r->ops[ctx]);
		if (irq && local_clock() - t0 > MMRACE_IRQ_BUDGET_NS)
			break;
	}
	return local_clock() - t0;
}

/*
 * The next expiry of an interrupt-context driver: the period, but never
 * less than MMRACE_IRQ_DUTY times what the last callback took.  Under
 * TCG on a loaded host a callback can take longer than the period; a
 * fixed period then leaves no time for tasks, and a clean variant dies
 * of a soft lockup that the code under test did not cause.
 */
#define MMRACE_IRQ_DUTY	4

static u64 mmrace_next_ns(struct mmrace_run *r, u64 took)
{
	return max(r->knob[MMRACE_K_PERIOD_US] * NSEC_PER_USEC,
		   took * MMRACE_IRQ_DUTY);
}

static unsigned int mmrace_burst(struct mmrace_run *r)
{
	return r->knob[MMRACE_K_BURST];
}

static u64 mmrace_period_ns(struct mmrace_run *r)
{
	return r->knob[MMRACE_K_PERIOD_US] * NSEC_PER_USEC;
}

static int mmrace_task_fn(void *arg)
{
	struct mmrace_run *r = arg;

	while (!kthread_should_stop()) {
		if (!mmrace_stopping(r))
			mmrace_call(r, MMRACE_CTX_TASK, 1);
		else
			schedule_timeout_idle(1);
		cond_resched();
	}
	return 0;
}

static void mmrace_timer_fn(struct timer_list *t)
{
	struct mmrace_cpu_drv *d = from_timer(d, t, timer);

	u64 took;

	WARN_ON_ONCE(!in_serving_softirq());
	took = mmrace_call(d->r, MMRACE_CTX_SOFTIRQ, mmrace_burst(d->r));
	if (!mmrace_stopping(d->r))
		mod_timer(&d->timer, jiffies +
			  max(1UL, nsecs_to_jiffies(mmrace_next_ns(d->r, took))));
}

static enum hrtimer_restart mmrace_soft_fn(struct hrtimer *t)
{
	struct mmrace_cpu_drv *d = container_of(t, struct mmrace_cpu_drv, soft);

	u64 took;

	WARN_ON_ONCE(!in_serving_softirq());
	took = mmrace_call(d->r, MMRACE_CTX_HRTIMER, mmrace_burst(d->r));
	if (mmrace_stopping(d->r))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(mmrace_next_ns(d->r, took)));
	return HRTIMER_RESTART;
}

static void mmrace_irq_work_fn(struct irq_work *w)
{
	struct mmrace_cpu_drv *d = container_of(w, struct mmrace_cpu_drv, iw);

	WARN_ON_ONCE(!in_hardirq());
	WRITE_ONCE(d->iw_took, mmrace_call(d->r, MMRACE_CTX_HARDIRQ,
					   mmrace_burst(d->r)));
}

/* A hard hrtimer only raises the irq_work: the op runs as irq_work. */
static enum hrtimer_restart mmrace_hard_fn(struct hrtimer *t)
{
	struct mmrace_cpu_drv *d = container_of(t, struct mmrace_cpu_drv, hard);
	u64 took;

	irq_work_queue(&d->iw);
	if (mmrace_stopping(d->r))
		return HRTIMER_NORESTART;
	took = READ_ONCE(d->iw_took);
	hrtimer_forward_now(t, ns_to_ktime(mmrace_next_ns(d->r, took)));
	return HRTIMER_RESTART;
}

static void mmrace_work_fn(struct work_struct *w)
{
	struct mmrace_cpu_drv *d = container_of(to_delayed_work(w),
						struct mmrace_cpu_drv, work);

	mmrace_call(d->r, MMRACE_CTX_WQ, mmrace_burst(d->r));
	if (!mmrace_stopping(d->r))
		queue_delayed_work_on(d->cpu, system_wq, &d->work,
				      usecs_to_jiffies(d->r->knob[MMRACE_K_PERIOD_US]));
}

static void mmrace_ipi_fn(void *arg)
{
	struct mmrace_run *r = arg;

	/*
	 * Usually the IPI handler, but a CPU polling in idle runs the
	 * call queue itself from do_idle(): IRQs off, not in_hardirq().
	 */
	WARN_ON_ONCE(!irqs_disabled());
	mmrace_call(r, MMRACE_CTX_IPI, mmrace_burst(r));
}

/* Round-robin over the other CPUs, so the IPI lands where tasks run. */
static int mmrace_ipi_thread(void *arg)
{
	struct mmrace_run *r = arg;
	u64 took = 0, t0;
	unsigned long us;
	int cpu = -1;

	while (!kthread_should_stop()) {
		if (!mmrace_stopping(r)) {
			cpu = cpumask_next(cpu, cpu_online_mask);
			if (cpu >= nr_cpu_ids)
				cpu = cpumask_first(cpu_online_mask);
			/* Self-IPIs run inline in task context: skip ourselves. */
			t0 = local_clock();
			if (cpu != raw_smp_processor_id())
				smp_call_function_single(cpu, mmrace_ipi_fn, r, 1);
			took = local_clock() - t0;
		}
		us = div_u64(mmrace_next_ns(r, took), NSEC_PER_USEC);
		usleep_range(us, us + us / 4);
	}
	return 0;
}

/* Runs on every online CPU (on_each_cpu), so each timer is armed local. */
static void mmrace_arm_local(void *arg)
{
	struct mmrace_run *r = arg;
	int cpu = smp_processor_id();
	struct mmrace_cpu_drv *d;
	ktime_t period;

	if (cpu >= MMRACE_MAX_CPUS)
		return;
	d = &r->drv->cpu[cpu];
	period = ns_to_ktime(mmrace_period_ns(r));
	if (r->contexts & BIT(MMRACE_CTX_SOFTIRQ))
		mod_timer(&d->timer, jiffies + 1);
	if (r->contexts & BIT(MMRACE_CTX_HRTIMER))
		hrtimer_start(&d->soft, period, HRTIMER_MODE_REL_PINNED_SOFT);
	if (r->contexts & BIT(MMRACE_CTX_HARDIRQ))
		hrtimer_start(&d->hard, period, HRTIMER_MODE_REL_PINNED_HARD);
}

int mmrace_drivers_start(struct mmrace_run *r)
{
	struct mmrace_drivers *drv;
	unsigned int i, nthreads = r->knob[MMRACE_K_THREADS];
	int cpu;

	drv = kzalloc(sizeof(*drv), GFP_KERNEL);
	if (!drv)
		return -ENOMEM;
	r->drv = drv;
	r->contexts = r->knob[MMRACE_K_CONTEXTS] & MMRACE_CTX_ALL;
	/* An IPI to ourselves runs in task context: no IPI on one CPU. */
	if (num_online_cpus() < 2 && (r->contexts & BIT(MMRACE_CTX_IPI))) {
		pr_info("%s: one CPU online, IPI context not driven\n",
			r->sc->name);
		r->contexts &= ~BIT(MMRACE_CTX_IPI);
	}

	for (cpu = 0; cpu < MMRACE_MAX_CPUS; cpu++) {
		struct mmrace_cpu_drv *d = &drv->cpu[cpu];

		d->r = r;
		d->cpu = cpu;
		timer_setup(&d->timer, mmrace_timer_fn, TIMER_PINNED);
		hrtimer_init(&d->soft, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_SOFT);
		d->soft.function = mmrace_soft_fn;
		hrtimer_init(&d->hard, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
		d->hard.function = mmrace_hard_fn;
		init_irq_work(&d->iw, mmrace_irq_work_fn);
		INIT_DELAYED_WORK(&d->work, mmrace_work_fn);
	}

	if (r->contexts & BIT(MMRACE_CTX_TASK)) {
		for (i = 0; i < nthreads && i < MMRACE_MAX_CPUS; i++) {
			struct task_struct *t;

			t = kthread_create(mmrace_task_fn, r, "mmrace/%s:%u",
					   r->sc->name, i);
			if (IS_ERR(t))
				return PTR_ERR(t);
			/*
			 * Held until kthread_stop(): a thread that oopses in
			 * a bug variant (without oops=panic) exits on its own,
			 * and kthread_stop() must not meet a freed task.
			 */
			get_task_struct(t);
			kthread_bind(t, cpumask_nth(i % num_online_cpus(),
						    cpu_online_mask));
			drv->task[i] = t;
			wake_up_process(t);
		}
	}
	if (r->contexts & BIT(MMRACE_CTX_IPI)) {
		drv->ipi = kthread_run(mmrace_ipi_thread, r, "mmrace/ipi");
		if (IS_ERR(drv->ipi)) {
			int ret = PTR_ERR(drv->ipi);

			drv->ipi = NULL;
			return ret;
		}
		get_task_struct(drv->ipi);	/* as the task threads' */
	}
	if (r->contexts & BIT(MMRACE_CTX_WQ))
		for_each_online_cpu(cpu)
			if (cpu < MMRACE_MAX_CPUS)
				queue_delayed_work_on(cpu, system_wq,
						      &drv->cpu[cpu].work, 1);
	on_each_cpu(mmrace_arm_local, r, 1);
	return 0;
}

/*
 * Called with r->stopping set, also after a partial start.  Sources
 * before what they feed: everything before the irq_work it may raise.
 */
void mmrace_drivers_stop(struct mmrace_run *r)
{
	struct mmrace_drivers *drv = r->drv;
	unsigned int i;

	if (!drv)
		return;
	for (i = 0; i < MMRACE_MAX_CPUS; i++)
		if (drv->task[i]) {
			kthread_stop(drv->task[i]);
			put_task_struct(drv->task[i]);
		}
	if (drv->ipi) {
		kthread_stop(drv->ipi);
		put_task_struct(drv->ipi);
	}
	for (i = 0; i < MMRACE_MAX_CPUS; i++) {
		struct mmrace_cpu_drv *d = &drv->cpu[i];

		timer_delete_sync(&d->timer);
		hrtimer_cancel(&d->soft);
		hrtimer_cancel(&d->hard);
		cancel_delayed_work_sync(&d->work);
	}
	/* Last: every context above may have raised it (raise_hardirq). */
	for (i = 0; i < MMRACE_MAX_CPUS; i++)
		irq_work_sync(&drv->cpu[i].iw);
	kfree(drv);
	r->drv = NULL;
}

/*
 * For scenarios that must be interrupted inside a critical section:
 * raise this CPU's irq_work now; with IRQs on it fires before the
 * caller's next instruction.
 */
void mmrace_raise_hardirq(struct mmrace_run *r)
{
	int cpu = get_cpu();

	if (r->drv && cpu < MMRACE_MAX_CPUS &&
	    (r->contexts & BIT(MMRACE_CTX_HARDIRQ)))
		irq_work_queue(&r->drv->cpu[cpu].iw);
	put_cpu();
}
