/*
 * list.h - the engine's one intrusive list: doubly linked and circular,
 * through a node embedded in each item (the design of nng's nni_list and
 * libuv's queue.h).
 *
 * A list knows the offset of the node in its items, so its functions take
 * and return item pointers, not nodes:
 *
 *     struct op { ...; ovio__list_node h_node; ... };
 *     ovio__list ops;
 *     ovio__list_init(&ops, struct op, h_node);
 *     ovio__list_append(&ops, op);
 *     for (op = ovio__list_first(&ops); op != NULL;
 *          op = ovio__list_next(&ops, op)) { ... }
 *
 * Insert and remove are O(1) and need no search; an item is on at most one
 * list through each of its nodes.  A node that is on no list has NULL
 * links (ovio__list_node_init, or a zeroed item), which is what
 * ovio__list_active tests; removing an item leaves its node so.  Removing
 * an item that is on no list, or inserting one that already is on a list,
 * is a broken invariant: it aborts.  The current item may be removed
 * while walking a list if the walk took its next first.  No locking: the
 * owner's lock guards the list and its items' nodes.
 */
#ifndef OVIO_LIST_H
#define OVIO_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct ovio__list_node {
	struct ovio__list_node *next;
	struct ovio__list_node *prev;
} ovio__list_node;

typedef struct ovio__list {
	ovio__list_node head;   /* head.next: first item's node; prev: last */
	size_t          offset; /* of the node within an item */
} ovio__list;

#define ovio__list_init(l, type, field) \
	ovio__list_init_offset((l), offsetof(type, field))

static inline void
ovio__list_init_offset(ovio__list *l, size_t offset)
{
	l->head.next = &l->head;
	l->head.prev = &l->head;
	l->offset    = offset;
}

static inline ovio__list_node *
ovio__list_node_of(const ovio__list *l, void *item)
{
	return ((ovio__list_node *) ((char *) item + l->offset));
}

/* The item of node n, or NULL for the list's head. */
static inline void *
ovio__list_item(const ovio__list *l, ovio__list_node *n)
{
	return (n == &l->head ? NULL : (void *) ((char *) n - l->offset));
}

static inline void
ovio__list_node_init(ovio__list_node *n)
{
	n->next = NULL;
	n->prev = NULL;
}

/* Whether the item whose node is n is on a list. */
static inline bool
ovio__list_active(const ovio__list_node *n)
{
	return (n->next != NULL);
}

static inline bool
ovio__list_empty(const ovio__list *l)
{
	return (l->head.next == &l->head);
}

static inline void *
ovio__list_first(const ovio__list *l)
{
	return (ovio__list_item(l, l->head.next));
}

static inline void *
ovio__list_last(const ovio__list *l)
{
	return (ovio__list_item(l, l->head.prev));
}

/* The item after (before) item, or NULL at the end. */
static inline void *
ovio__list_next(const ovio__list *l, void *item)
{
	return (ovio__list_item(l, ovio__list_node_of(l, item)->next));
}

static inline void *
ovio__list_prev(const ovio__list *l, void *item)
{
	return (ovio__list_item(l, ovio__list_node_of(l, item)->prev));
}

/* Links n between prev and next (adjacent). */
static inline void
ovio__list_link(
    ovio__list_node *n, ovio__list_node *prev, ovio__list_node *next)
{
	if (n->next != NULL) {
		abort(); /* already on a list */
	}
	n->prev    = prev;
	n->next    = next;
	prev->next = n;
	next->prev = n;
}

static inline void
ovio__list_append(ovio__list *l, void *item)
{
	ovio__list_link(ovio__list_node_of(l, item), l->head.prev, &l->head);
}

static inline void
ovio__list_prepend(ovio__list *l, void *item)
{
	ovio__list_link(ovio__list_node_of(l, item), &l->head, l->head.next);
}

static inline void
ovio__list_remove(ovio__list *l, void *item)
{
	ovio__list_node *n = ovio__list_node_of(l, item);

	if (n->next == NULL) {
		abort(); /* not on a list */
	}
	n->prev->next = n->next;
	n->next->prev = n->prev;
	ovio__list_node_init(n);
}

/* Removes and returns the first item, or NULL when l is empty. */
static inline void *
ovio__list_pop_first(ovio__list *l)
{
	void *item = ovio__list_first(l);

	if (item != NULL) {
		ovio__list_remove(l, item);
	}
	return (item);
}

#endif
