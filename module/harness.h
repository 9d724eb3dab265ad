/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace's framework internals: what core.c, debugfs.c, drivers.c and
 * inject.c share, and no scenario needs (as lkdtm.h is to lkdtm's core).
 * A scenario includes mmrace.h only.
 */
#ifndef MMRACE_HARNESS_H
#define MMRACE_HARNESS_H

#include "mmrace.h"

/* drivers.c: the contexts a run's operations are called from */
int mmrace_drivers_start(struct mmrace_run *r);
void mmrace_drivers_stop(struct mmrace_run *r);

/* core.c */
extern const struct mmrace_scenario *const mmrace_scenarios[];
extern const unsigned int mmrace_nr_scenarios;
extern const struct mmrace_knob mmrace_core_knobs[MMRACE_NR_CORE_KNOBS];

/*
 * What debugfs and the module parameters act on: one per scenario, for
 * the module's lifetime.  @lock serialises start/stop and knob writes;
 * the last run stays here so that its stats and result can be read.
 */
struct mmrace_slot {
	const struct mmrace_scenario *sc;
	struct mutex lock;		/* start/stop, variant, knob */
	unsigned int variant;
	u64 knob[MMRACE_NR_CORE_KNOBS + MMRACE_MAX_KNOBS];
	struct mmrace_run *run;
};

extern struct mmrace_slot *mmrace_slots;

const struct mmrace_knob *mmrace_slot_knob(const struct mmrace_slot *s,
					   unsigned int i);
unsigned int mmrace_slot_nr_knobs(const struct mmrace_slot *s);
void mmrace_slot_select(struct mmrace_slot *s, unsigned int variant);
int mmrace_slot_start(struct mmrace_slot *s, unsigned int ktap_nr);
int mmrace_slot_stop(struct mmrace_slot *s, bool killable);
bool mmrace_slot_running(struct mmrace_slot *s);
const char *mmrace_run_state(struct mmrace_run *r);
const char *mmrace_runner_state(void);
struct seq_file;
void mmrace_print_stats(struct mmrace_run *r, struct seq_file *m);

/* debugfs.c */
int mmrace_debugfs_init(void);
void mmrace_debugfs_exit(void);

/* inject.c: kprobe delays that widen race windows */
int mmrace_inject_set(const char *spec);
void mmrace_inject_show(struct seq_file *m);
void mmrace_inject_clear(void);

#endif /* MMRACE_HARNESS_H */
