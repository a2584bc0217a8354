/* introspect.c - page states from mincore and pagemap, smaps records. */
#include "config.h"
#include "view/introspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE_OR_SHARED (1ull << 61)
#define CHUNK_PAGES 4096

static size_t page_count(size_t len, size_t page)
{
	return (len + page - 1) / page;
}

/* One page's state from its pagemap entry and mincore byte. */
static char page_state(uint64_t pm, unsigned char in_core, bool private_mapping)
{
	if (pm & PM_PRESENT) {
		/* An anonymous page in a private mapping is a copy-on-write copy. */
		if (private_mapping && !(pm & PM_FILE_OR_SHARED))
			return 'C';
		return 'M';
	}
	if (pm & PM_SWAPPED)
		return 'S';
	return (in_core & 1) ? 'R' : '.';
}

static int classify_chunk(int pagemap, char *base, size_t pages, size_t page,
			  bool private_mapping, char *out)
{
	unsigned char vec[CHUNK_PAGES];
	uint64_t pm[CHUNK_PAGES];
	if (mincore(base, pages * page, vec) < 0)
		return -errno;
	off_t at = (off_t)((uintptr_t)base / page * sizeof pm[0]);
	ssize_t n = pread(pagemap, pm, pages * sizeof pm[0], at);
	if (n != (ssize_t)(pages * sizeof pm[0]))
		return n < 0 ? -errno : -EIO;
	for (size_t i = 0; i < pages; i++)
		out[i] = page_state(pm[i], vec[i], private_mapping);
	return 0;
}

int mapping_pages(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return fail_errno(msg, errno);
	pthread_rwlock_rdlock(&m->lock);
	size_t pages = page_count(m->len, page);
	char *out = malloc(pages + 1);
	int rc = m->closed ? fail(msg, ENXIO, "mmap closed or invalid")
			   : out ? 0 : fail_errno(msg, ENOMEM);
	bool private_mapping = (m->flags & MAP_TYPE) == MAP_PRIVATE;
	for (size_t i = 0; rc == 0 && i < pages; i += CHUNK_PAGES) {
		size_t n = pages - i < CHUNK_PAGES ? pages - i : CHUNK_PAGES;
		rc = classify_chunk(pagemap, m->data + i * page, n, page, private_mapping, out + i);
		if (rc < 0)
			rc = fail_errno(msg, -rc);
	}
	pthread_rwlock_unlock(&m->lock);
	close(pagemap);
	if (rc < 0) {
		free(out);
		return rc;
	}
	out[pages] = '\n';
	*text = out;
	*len = pages + 1;
	return 0;
}

/* Whether an smaps header line's range overlaps [lo, hi). */
static bool header_overlaps(const char *line, uintptr_t lo, uintptr_t hi)
{
	unsigned long start, end;
	char dash;
	if (sscanf(line, "%lx%c%lx ", &start, &dash, &end) != 3 || dash != '-')
		return false;
	return start < hi && end > lo;
}

static bool is_header(const char *line)
{
	/* Headers begin with a hex address; field lines with a capitalised key. */
	return (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
}

int mapping_smaps(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	FILE *in = fopen("/proc/self/smaps", "re");
	if (!in)
		return fail_errno(msg, errno);
	char *buf = NULL, *line = NULL;
	size_t size = 0, cap = 0;
	FILE *out = open_memstream(&buf, &size);
	pthread_rwlock_rdlock(&m->lock);
	int rc = m->closed ? fail(msg, ENXIO, "mmap closed or invalid")
			   : out ? 0 : fail_errno(msg, ENOMEM);
	uintptr_t lo = (uintptr_t)m->data, hi = lo + m->len;
	bool copying = false;
	while (rc == 0 && m->len > 0 && getline(&line, &cap, in) > 0) {
		if (is_header(line))
			copying = header_overlaps(line, lo, hi);
		if (copying)
			fputs(line, out);
	}
	pthread_rwlock_unlock(&m->lock);
	free(line);
	fclose(in);
	if (out)
		fclose(out);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = size;
	return 0;
}

uint64_t mapping_resident(struct mapping *m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[CHUNK_PAGES];
	uint64_t pages = 0;
	pthread_rwlock_rdlock(&m->lock);
	size_t total = m->closed ? 0 : page_count(m->len, page);
	for (size_t i = 0; i < total; i += CHUNK_PAGES) {
		size_t n = total - i < CHUNK_PAGES ? total - i : CHUNK_PAGES;
		if (mincore(m->data + i * page, n * page, vec) < 0)
			break;
		for (size_t k = 0; k < n; k++)
			pages += vec[k] & 1;
	}
	pthread_rwlock_unlock(&m->lock);
	return pages * page;
}
