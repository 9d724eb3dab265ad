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
