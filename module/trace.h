/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace tracepoints (events/mmrace/): the last events before a splat
 * say which CPU, which context and which object were involved.  The
 * guest dumps them after every run that splatted.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mmrace

#if !defined(MMRACE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define MMRACE_TRACE_H

#include <linux/tracepoint.h>
#include <linux/string.h>

/* A fixed array, not __string(): its assign macro differs by version. */
#define MMRACE_TRACE_ID	48

DECLARE_EVENT_CLASS(mmrace_marker,
		    TP_PROTO(const char *scenario, const char *variant),
		    TP_ARGS(scenario, variant),
		    TP_STRUCT__entry(__array(char, id, MMRACE_TRACE_ID)),
		    TP_fast_assign(snprintf(__entry->id, MMRACE_TRACE_ID, "%s/%s",
					    scenario, variant)),
		    TP_printk("%s", __entry->id)
);

DEFINE_EVENT(mmrace_marker, mmrace_begin,
	     TP_PROTO(const char *scenario, const char *variant),
	     TP_ARGS(scenario, variant));
DEFINE_EVENT(mmrace_marker, mmrace_end,
	     TP_PROTO(const char *scenario, const char *variant),
	     TP_ARGS(scenario, variant));

/*
 * @obj: which page/descriptor/index (the scenario's own numbering, so
 * that it reads the same in every run); @val: a count, state or time.
 * ctx: t(ask), s(oftirq) or h(ardirq), as the context really was.
 */
DECLARE_EVENT_CLASS(mmrace_obj,
		    TP_PROTO(long obj, long val),
		    TP_ARGS(obj, val),
		    TP_STRUCT__entry(__field(long, obj) __field(long, val)
				     __field(char, ctx)),
		    TP_fast_assign(__entry->obj = obj; __entry->val = val;
				   __entry->ctx = in_hardirq() ? 'h' :
						  in_serving_softirq() ? 's' : 't'),
		    TP_printk("ctx=%c obj=%ld val=%ld", __entry->ctx,
			      __entry->obj, __entry->val)
);

#define MMRACE_OBJ_EVENT(name)						\
	DEFINE_EVENT(mmrace_obj, name, TP_PROTO(long obj, long val),	\
		     TP_ARGS(obj, val))

MMRACE_OBJ_EVENT(mmrace_enqueue);
MMRACE_OBJ_EVENT(mmrace_drain);
MMRACE_OBJ_EVENT(mmrace_trylock_fail);
MMRACE_OBJ_EVENT(mmrace_fallback);
MMRACE_OBJ_EVENT(mmrace_remap);
MMRACE_OBJ_EVENT(mmrace_restore);
MMRACE_OBJ_EVENT(mmrace_freeze);
MMRACE_OBJ_EVENT(mmrace_spin);
/* collapse: a failed collapse's huge page reused, obj new offset, val old */
MMRACE_OBJ_EVENT(mmrace_reuse);

#endif /* MMRACE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
