/* table.c - hash tables by name and by id, numbered names, limits. */
#include "config.h"
#include "core/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64

static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_id(uint64_t id)
{
	return id * 0x9e3779b97f4a7c15ull;
}

static void init_rwlock(pthread_rwlock_t *l)
{
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	/* Readers must not starve a map or close under a stream of lookups. */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
}

int table_init(struct table *t, size_t max_maps, uint64_t max_bytes)
{
	memset(t, 0, sizeof *t);
	t->buckets = INITIAL_BUCKETS;
	t->by_name = calloc(t->buckets, sizeof *t->by_name);
	t->by_id = calloc(t->buckets, sizeof *t->by_id);
	if (!t->by_name || !t->by_id) {
		free(t->by_name);
		free(t->by_id);
		return -ENOMEM;
	}
	init_rwlock(&t->lock);
	t->max_maps = max_maps;
	t->next_id = 1;
	atomic_init(&t->budget.used, 0);
	t->budget.limit = max_bytes;
	t->user_max_maps = SIZE_MAX;
	t->user_max_bytes = UINT64_MAX;
	t->exempt_uid = (uid_t)-1;
	return 0;
}

void table_set_user_limits(struct table *t, size_t maps, uint64_t bytes, uid_t exempt_uid)
{
	t->user_max_maps = maps;
	t->user_max_bytes = bytes;
	t->exempt_uid = exempt_uid;
}

/* ---- numbered names --------------------------------------------------- */

/* The number a name spells in canonical decimal, if it is one the bitmap
 * tracks. Automatic names never exceed max_maps, so larger ones need no bit. */
static bool numbered(const struct table *t, const char *name, size_t *out)
{
	size_t v = 0, len = strlen(name);
	if (len == 0 || len > 19 || (name[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (size_t)(name[i] - '0');
	}
	if (v > t->max_maps)
		return false;
	*out = v;
	return true;
}

static int bitmap_reserve(struct table *t, size_t bit)
{
	size_t words = bit / 64 + 1;
	if (words <= t->numbered_words)
		return 0;
	size_t n = t->numbered_words ? t->numbered_words : 16;
	while (n < words)
		n *= 2;
	uint64_t *w = realloc(t->numbered, n * sizeof *w);
	if (!w)
		return -ENOMEM;
	memset(w + t->numbered_words, 0, (n - t->numbered_words) * sizeof *w);
	t->numbered = w;
	t->numbered_words = n;
	return 0;
}

static void mark_number(struct table *t, const char *name, bool taken)
{
	size_t k;
	if (!numbered(t, name, &k))
		return;
	if (taken) {
		t->numbered[k / 64] |= 1ull << (k % 64);
	} else {
		t->numbered[k / 64] &= ~(1ull << (k % 64));
		if (k < t->free_hint)
			t->free_hint = k;
	}
}

/* The smallest number whose name is free. */
static int smallest_free(struct table *t, size_t *out)
{
	size_t w = t->free_hint / 64;
	for (;; w++) {
		if (bitmap_reserve(t, w * 64) < 0)
			return -ENOMEM;
		if (t->numbered[w] != UINT64_MAX)
			break;
	}
	size_t k = w * 64 + (size_t)__builtin_ctzll(~t->numbered[w]);
	t->free_hint = k;
	*out = k;
	return 0;
}

/* ---- hash chains ------------------------------------------------------ */

static struct mapping **name_slot(struct table *t, const char *name, size_t len)
{
	struct mapping **p = &t->by_name[hash_name(name, len) & (t->buckets - 1)];
	while (*p && !(strlen((*p)->name) == len && memcmp((*p)->name, name, len) == 0))
		p = &(*p)->next_by_name;
	return p;
}

static struct mapping **id_slot(struct table *t, uint64_t id)
{
	struct mapping **p = &t->by_id[hash_id(id) & (t->buckets - 1)];
	while (*p && (*p)->id != id)
		p = &(*p)->next_by_id;
	return p;
}

static void link_mapping(struct table *t, struct mapping *m)
{
	struct mapping **n = &t->by_name[hash_name(m->name, strlen(m->name)) & (t->buckets - 1)];
	struct mapping **i = &t->by_id[hash_id(m->id) & (t->buckets - 1)];
	m->next_by_name = *n;
	*n = m;
	m->next_by_id = *i;
	*i = m;
}

static int grow_buckets(struct table *t)
{
	size_t old = t->buckets;
	struct mapping **names = t->by_name, **ids = t->by_id;
	struct mapping **nn = calloc(old * 2, sizeof *nn), **ni = calloc(old * 2, sizeof *ni);
	if (!nn || !ni) {
		free(nn);
		free(ni);
		return -ENOMEM;
	}
	t->by_name = nn;
	t->by_id = ni;
	t->buckets = old * 2;
	for (size_t b = 0; b < old; b++) {
		for (struct mapping *m = names[b], *next; m; m = next) {
			next = m->next_by_name;
			link_mapping(t, m);
		}
	}
	free(names);
	free(ids);
	return 0;
}

/* ---- per-user accounts ------------------------------------------------ */

/* Called with the table lock held; create: exclusively. */
static struct user_account *find_account(struct table *t, uid_t uid, bool create)
{
	if (uid == t->exempt_uid)
		return NULL;
	struct user_account *a = t->accounts;
	while (a && a->uid != uid)
		a = a->next;
	if (a || !create)
		return a;
	a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->uid = uid;
	atomic_init(&a->bytes.used, 0);
	a->bytes.limit = t->user_max_bytes;
	a->bytes.parent = &t->budget;
	a->bytes.what = "user_max_bytes";
	atomic_init(&a->locked, 0);
	a->next = t->accounts;
	t->accounts = a;
	return a;
}

/* The user's share of max_maps; with the table lock held exclusively.
 * Charges the account, which the caller must undo if it fails later. */
static int take_user_map(struct table *t, uid_t uid, struct msg *msg)
{
	if (uid == t->exempt_uid)
		return 0;
	struct user_account *a = find_account(t, uid, true);
	if (!a)
		return msg_fail_errno(msg, ENOMEM);
	if (a->maps >= t->user_max_maps)
		return msg_fail(msg, ENOSPC, "user_max_maps reached: uid %u holds %zu mappings",
			    (unsigned)uid, a->maps);
	a->maps++;
	return 0;
}

struct user_account *table_account(struct table *t, const struct mapping *m)
{
	pthread_rwlock_rdlock(&t->lock);
	struct user_account *a = find_account(t, m->uid, false);
	pthread_rwlock_unlock(&t->lock);
	return a;
}

_Atomic uint64_t *table_locked_counter(struct table *t, uid_t uid)
{
	if (uid == t->exempt_uid)
		return &t->locked;
	pthread_rwlock_wrlock(&t->lock);
	struct user_account *a = find_account(t, uid, true);
	pthread_rwlock_unlock(&t->lock);
	return a ? &a->locked : NULL;
}

/* ---- entering and leaving --------------------------------------------- */

static int choose_name(struct table *t, struct mapping *m, const char *name, size_t len,
		       struct msg *msg)
{
	if (name) {
		if (!mapname_valid(name, len))
			return msg_fail(msg, EINVAL, "invalid mapping name '%.*s' (1-%d of A-Z a-z 0-9 "
				    ". _ -, not starting with '.')", (int)(len > 80 ? 80 : len), name,
				    MAPNAME_MAX);
		if (*name_slot(t, name, len))
			return msg_fail(msg, EEXIST, "a mapping named '%.*s' exists already", (int)len, name);
		memcpy(m->name, name, len);
		m->name[len] = '\0';
		return 0;
	}
	size_t k;
	if (smallest_free(t, &k) < 0)
		return msg_fail_errno(msg, ENOMEM);
	snprintf(m->name, sizeof m->name, "%zu", k);
	return 0;
}

int table_reserve(struct table *t, struct mapping *m, const char *name, size_t len,
		  struct msg *msg)
{
	pthread_rwlock_wrlock(&t->lock);
	int rc = 0;
	if (t->count >= t->max_maps)
		rc = msg_fail(msg, ENOSPC, "max_maps reached: %zu mappings", t->max_maps);
	if (rc == 0)
		rc = choose_name(t, m, name, len, msg);
	size_t k;
	if (rc == 0 && numbered(t, m->name, &k) && bitmap_reserve(t, k) < 0)
		rc = msg_fail_errno(msg, ENOMEM);
	if (rc == 0 && t->count >= t->buckets && grow_buckets(t) < 0)
		rc = msg_fail_errno(msg, ENOMEM);
	if (rc == 0)
		rc = take_user_map(t, m->uid, msg);
	if (rc == 0) {
		m->id = t->next_id++;
		m->published = false;
		link_mapping(t, m);
		mark_number(t, m->name, true);
		t->count++;
		mapping_ref(m);
	}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

void table_publish(struct table *t, struct mapping *m)
{
	pthread_rwlock_wrlock(&t->lock);
	m->published = true;
	pthread_rwlock_unlock(&t->lock);
}

void table_drop(struct table *t, struct mapping *m)
{
	pthread_rwlock_wrlock(&t->lock);
	struct mapping **n = name_slot(t, m->name, strlen(m->name));
	bool present = *n == m;
	if (present) {
		*n = m->next_by_name;
		struct mapping **i = id_slot(t, m->id);
		*i = m->next_by_id;
		mark_number(t, m->name, false);
		t->count--;
		struct user_account *a = find_account(t, m->uid, false);
		if (a)
			a->maps--;
		m->published = false;
	}
	pthread_rwlock_unlock(&t->lock);
	if (present)
		mapping_unref(m);
}

struct mapping *table_find(struct table *t, const char *name, size_t len)
{
	pthread_rwlock_rdlock(&t->lock);
	struct mapping *m = *name_slot(t, name, len);
	if (m && m->published)
		mapping_ref(m);
	else
		m = NULL;
	pthread_rwlock_unlock(&t->lock);
	return m;
}

struct mapping *table_find_id(struct table *t, uint64_t id)
{
	pthread_rwlock_rdlock(&t->lock);
	struct mapping *m = *id_slot(t, id);
	if (m && m->published)
		mapping_ref(m);
	else
		m = NULL;
	pthread_rwlock_unlock(&t->lock);
	return m;
}

int table_lookup(struct table *t, const char *name, size_t len, struct mapping **out,
		 struct msg *msg)
{
	if (!mapname_valid(name, len))
		return msg_fail(msg, EINVAL, "invalid mapping name '%.*s'", (int)(len > 80 ? 80 : len),
			    name);
	*out = table_find(t, name, len);
	return *out ? 0 : msg_fail(msg, ENOENT, "no mapping named '%.*s'", (int)len, name);
}

void table_stats(struct table *t, struct table_stats *out)
{
	pthread_rwlock_rdlock(&t->lock);
	out->maps = t->count;
	out->max_maps = t->max_maps;
	pthread_rwlock_unlock(&t->lock);
	out->bytes = atomic_load(&t->budget.used);
	out->max_bytes = t->budget.limit;
}

/* The published mappings, each with a reference, taken under the table
 * lock; the caller visits them after dropping it (a mapping's lock may be
 * held for long, by a close in msync, and waiting for it under the table
 * lock would stall every lookup behind the next table writer). */
static struct mapping **table_refs(struct table *t, size_t *n)
{
	pthread_rwlock_rdlock(&t->lock);
	struct mapping **v = malloc((t->count ? t->count : 1) * sizeof *v);
	size_t k = 0;
	for (size_t b = 0; v && b < t->buckets; b++) {
		for (struct mapping *m = t->by_id[b]; m; m = m->next_by_id) {
			if (m->published) {
				mapping_ref(m);
				v[k++] = m;
			}
		}
	}
	pthread_rwlock_unlock(&t->lock);
	*n = k;
	return v;
}

uint64_t table_resident(struct table *t, uint64_t (*measure)(struct mapping *m))
{
	size_t n = 0;
	struct mapping **v = table_refs(t, &n);
	uint64_t sum = 0;
	for (size_t i = 0; v && i < n; i++) {
		sum += measure(v[i]);
		mapping_unref(v[i]);
	}
	free(v);
	return sum;
}

static int by_id(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int table_list(struct table *t, struct table_entry **out, size_t *n)
{
	pthread_rwlock_rdlock(&t->lock);
	struct table_entry *v = malloc((t->count ? t->count : 1) * sizeof *v);
	size_t k = 0;
	for (size_t b = 0; v && b < t->buckets; b++) {
		for (struct mapping *m = t->by_id[b]; m; m = m->next_by_id) {
			if (!m->published)
				continue;
			v[k].id = m->id;
			memcpy(v[k].name, m->name, sizeof v[k].name);
			k++;
		}
	}
	pthread_rwlock_unlock(&t->lock);
	if (!v)
		return -ENOMEM;
	qsort(v, k, sizeof *v, by_id);
	*out = v;
	*n = k;
	return 0;
}

void table_destroy(struct table *t)
{
	for (size_t b = 0; b < t->buckets; b++) {
		while (t->by_id[b]) {
			struct mapping *m = t->by_id[b];
			mapping_close(m, true, NULL);
			table_drop(t, m);
		}
	}
	pthread_rwlock_destroy(&t->lock);
	free(t->by_name);
	free(t->by_id);
	free(t->numbered);
	while (t->accounts) {
		struct user_account *a = t->accounts;
		t->accounts = a->next;
		free(a);
	}
}
