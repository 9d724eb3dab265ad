/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lockless list of the posted 2019 hugetlb patch (before llist):
 * producers xchg() themselves onto the head and only then write their
 * next pointer; one consumer takes the whole list with xchg(NULL).
 *
 * Between a producer's xchg and its write of next, a consumer that
 * already took the list can reach the node.  With @marker the producer
 * first stores XLIST_PENDING in next, and the consumer spins until the
 * real value arrives; without it the consumer follows whatever next
 * held (the xchg_nopending bug).  The node lives in a field of the
 * object that is "about to be cleared anyway" (page->mapping).
 *
 * Header-only so that mmrace.ko and the KUnit suite share one copy.
 */
#ifndef MMRACE_XLIST_H
#define MMRACE_XLIST_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/processor.h>

struct xlist_node {
	struct xlist_node *next;
};

#define XLIST_PENDING	((struct xlist_node *)-1L)

/*
 * The push in two halves, so that a caller can stall in between, where
 * the consumer can overtake it.  Returns the old head, @n's next-to-be.
 */
static inline struct xlist_node *xlist_push_begin(struct xlist_node **head,
						  struct xlist_node *n,
						  bool marker)
{
	/* Not yet visible to anyone: a plain store, ordered by the xchg. */
	if (marker)
		n->next = XLIST_PENDING;
	return xchg(head, n);
}

static inline void xlist_push_end(struct xlist_node *n,
				  struct xlist_node *next)
{
	/* Now the consumer may be reading it: no store tearing. */
	WRITE_ONCE(n->next, next);
}

static inline void xlist_push(struct xlist_node **head, struct xlist_node *n,
			      bool marker)
{
	xlist_push_end(n, xlist_push_begin(head, n, marker));
}

/* Take the whole list, newest first. */
static inline struct xlist_node *xlist_take(struct xlist_node **head)
{
	return xchg(head, NULL);
}

/* @n's successor, waiting out a producer between xchg and write. */
static inline struct xlist_node *xlist_next(struct xlist_node *n,
					    unsigned long *spins)
{
	struct xlist_node *next;

	while ((next = READ_ONCE(n->next)) == XLIST_PENDING) {
		(*spins)++;
		cpu_relax();
	}
	return next;
}

#endif /* MMRACE_XLIST_H */
