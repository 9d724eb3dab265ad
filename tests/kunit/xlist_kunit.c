// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit cases for mmrace's private primitives: the posted 2019 xchg
 * list (module/xlist.h) that defer_free builds its bug and clean
 * variants on.  Ordering, accounting, empty/one/many, the marker, and
 * concurrent producers against a draining consumer.
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpumask.h>
#include "../../module/xlist.h"

#define NODES 64

struct item {
	struct xlist_node node;
	unsigned int id;
};

static unsigned int item_id(struct xlist_node *n)
{
	return container_of(n, struct item, node)->id;
}

static void xlist_empty_take_is_null(struct kunit *test)
{
	struct xlist_node *head = NULL;

	KUNIT_EXPECT_NULL(test, xlist_take(&head));
}

static void xlist_one(struct kunit *test)
{
	struct xlist_node *head = NULL, *n;
	struct item a = { .id = 1 };
	unsigned long spins = 0;

	xlist_push(&head, &a.node, true);
	n = xlist_take(&head);
	KUNIT_ASSERT_PTR_EQ(test, n, &a.node);
	KUNIT_EXPECT_NULL(test, xlist_next(n, &spins));
	KUNIT_EXPECT_NULL(test, head);
	KUNIT_EXPECT_EQ(test, spins, 0UL);
}

/* head -> 3 -> 2 -> 1: a stack, newest first, every node once. */
static void xlist_many_lifo(struct kunit *test)
{
	struct xlist_node *head = NULL, *n;
	struct item it[NODES];
	unsigned long spins = 0;
	unsigned int i, want = NODES;

	for (i = 0; i < NODES; i++) {
		it[i].id = i + 1;
		xlist_push(&head, &it[i].node, i & 1);
	}
	for (n = xlist_take(&head); n; n = xlist_next(n, &spins))
		KUNIT_EXPECT_EQ(test, item_id(n), want--);
	KUNIT_EXPECT_EQ(test, want, 0U);
}

/* A consumer that took the list before next was written must wait. */
static void xlist_marker_stops_consumer(struct kunit *test)
{
	struct xlist_node *head = NULL;
	struct item a = { .id = 1 };

	/* The producer's state right after its xchg, before WRITE_ONCE. */
	a.node.next = XLIST_PENDING;
	head = &a.node;
	KUNIT_EXPECT_PTR_EQ(test, xlist_take(&head), &a.node);
	KUNIT_EXPECT_PTR_EQ(test, READ_ONCE(a.node.next), XLIST_PENDING);
}

/*
 * The consumer (defer_free's drain) took the list while its head's
 * producer sat between xchg and the write of next: it must spin on
 * XLIST_PENDING until that write, then follow the real next.
 */
struct pending_consumer {
	struct xlist_node **head;
	struct xlist_node *took, *next;
	unsigned long spins;		/* xlist_next()'s, read while it runs */
	struct completion done;
};

static int pending_consumer_fn(void *arg)
{
	struct pending_consumer *pc = arg;

	pc->took = xlist_take(pc->head);
	if (pc->took)
		pc->next = xlist_next(pc->took, &pc->spins);
	complete(&pc->done);
	return 0;
}

static void xlist_pending_released_by_producer(struct kunit *test)
{
	struct xlist_node *head = NULL, *next;
	struct item a = { .id = 1 }, b = { .id = 2 };
	struct pending_consumer *pc;
	struct task_struct *t;
	unsigned long waited;

	if (num_online_cpus() < 2)
		kunit_skip(test, "the consumer spins: it needs a CPU of its own");
	pc = kunit_kzalloc(test, sizeof(*pc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pc);
	pc->head = &head;
	init_completion(&pc->done);

	/* a complete, b half-way: head -> b, b.next PENDING, old head a. */
	xlist_push(&head, &a.node, true);
	next = xlist_push_begin(&head, &b.node, true);
	KUNIT_ASSERT_PTR_EQ(test, next, &a.node);

	t = kthread_run(pending_consumer_fn, pc, "xlist_kunit/drain");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	/* Until it is seen spinning on b (10 s: a slow TCG guest). */
	for (waited = 0; !READ_ONCE(pc->spins) && waited < 10000; waited++)
		usleep_range(1000, 2000);
	/*
	 * The producer's write of next: whatever happened above, it must
	 * come before returning, or the consumer spins on our stack.
	 */
	xlist_push_end(&b.node, next);
	wait_for_completion(&pc->done);

	KUNIT_EXPECT_PTR_EQ(test, pc->took, &b.node);
	KUNIT_EXPECT_GT(test, pc->spins, 0UL);
	KUNIT_EXPECT_PTR_EQ(test, pc->next, &a.node);
	KUNIT_EXPECT_NULL(test, head);
	kunit_info(test, "consumer spun %lu times until next was written\n",
		   pc->spins);
}

/*
 * The same interleaving without the marker (xchg_nopending): b's next
 * still holds what the field held, here NULL as in a page whose
 * ->mapping was cleared.  The consumer takes b, sees the end of the list
 * and stops; the producer's write comes too late, and a, reachable only
 * from b, is in no list any more: lost.
 */
static void xlist_no_marker_truncates(struct kunit *test)
{
	struct xlist_node *head = NULL, *next, *n;
	struct item a = { .id = 1 }, b = { .id = 2 };
	unsigned long spins = 0;
	unsigned int got = 0;

	xlist_push(&head, &a.node, false);
	b.node.next = NULL;
	next = xlist_push_begin(&head, &b.node, false);
	KUNIT_ASSERT_PTR_EQ(test, next, &a.node);

	/* The consumer overtakes the producer here. */
	for (n = xlist_take(&head); n; n = xlist_next(n, &spins)) {
		KUNIT_EXPECT_EQ(test, item_id(n), 2U);
		got++;
	}
	xlist_push_end(&b.node, next);

	KUNIT_EXPECT_EQ(test, got, 1U);		/* a never delivered */
	KUNIT_EXPECT_EQ(test, spins, 0UL);	/* nothing said to wait */
	KUNIT_EXPECT_NULL(test, head);		/* nor will a ever be */
	KUNIT_EXPECT_PTR_EQ(test, READ_ONCE(b.node.next), &a.node);
}

struct producer {
	struct xlist_node **head;
	struct item *items;
	unsigned int first, count;
	struct completion done;
};

static int producer_fn(void *arg)
{
	struct producer *p = arg;
	struct xlist_node *next, *n;
	unsigned int i;

	/* Stall between the halves now and then, as a slow CPU would. */
	for (i = 0; i < p->count; i++) {
		n = &p->items[p->first + i].node;
		next = xlist_push_begin(p->head, n, true);
		if (!(i % 16))
			ndelay(2000);
		xlist_push_end(n, next);
	}
	complete(&p->done);
	return 0;
}

/* Two producers, one consumer: every node delivered exactly once. */
static void xlist_concurrent_producers(struct kunit *test)
{
	const unsigned int per = 2000, nprod = 2, total = per * nprod;
	struct xlist_node *head = NULL, *n;
	struct producer prod[2];
	unsigned long *seen, spins = 0;
	unsigned int i, got = 0, dups = 0;
	struct item *items;
	bool done = false;

	items = kunit_kcalloc(test, total, sizeof(*items), GFP_KERNEL);
	seen = kunit_kcalloc(test, BITS_TO_LONGS(total), sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, items);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	for (i = 0; i < total; i++)
		items[i].id = i;
	for (i = 0; i < nprod; i++) {
		prod[i] = (struct producer){ &head, items, i * per, per };
		init_completion(&prod[i].done);
		KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(producer_fn, &prod[i],
							    "xlist_kunit/%u", i)));
	}
	while (!done) {
		done = completion_done(&prod[0].done) && completion_done(&prod[1].done);
		for (n = xlist_take(&head); n; n = xlist_next(n, &spins)) {
			if (__test_and_set_bit(item_id(n), seen))
				dups++;
			got++;
		}
		cond_resched();
	}
	KUNIT_EXPECT_EQ(test, dups, 0U);
	KUNIT_EXPECT_EQ(test, got, total);
	KUNIT_EXPECT_EQ(test, bitmap_weight(seen, total), total);
	kunit_info(test, "consumer spun %lu times on a pending next\n", spins);
}

static struct kunit_case xlist_cases[] = {
	KUNIT_CASE(xlist_empty_take_is_null),
	KUNIT_CASE(xlist_one),
	KUNIT_CASE(xlist_many_lifo),
	KUNIT_CASE(xlist_marker_stops_consumer),
	KUNIT_CASE(xlist_pending_released_by_producer),
	KUNIT_CASE(xlist_no_marker_truncates),
	KUNIT_CASE_SLOW(xlist_concurrent_producers),
	{}
};

static struct kunit_suite xlist_suite = {
	.name = "mmrace_xlist",
	.test_cases = xlist_cases,
};

kunit_test_suite(xlist_suite);

MODULE_DESCRIPTION("KUnit cases for mmrace's private primitives");
MODULE_LICENSE("GPL");
