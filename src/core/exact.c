/* exact.c - is a mapping its file, byte for byte? See exact.h. */
#include "config.h"

#include "core/exact.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Why m is not exactly its file, or 0 if it is; m's lock is held. */
static int why_not_exact(const struct mapping *m, struct msg *msg)
{
	if (m->closed)
		return msg_fail(msg, ENXIO, "the mapping is closed");
	if ((m->flags & MAP_TYPE) == MAP_PRIVATE)
		return msg_fail(msg, EOPNOTSUPP, "a private mapping (its written pages are copies)");
	if (!(m->prot & PROT_READ))
		return msg_fail(msg, EOPNOTSUPP, "prot lacks read (the server refuses its reads)");
	if (m->fd < 0)
		return msg_fail(msg, EOPNOTSUPP, "no descriptor kept (trackfd=no)");
	/* Anonymous memory ignores offset (its memfd is mapped from 0); for a
	 * file the length test below catches it too, as an offset leaves the
	 * mapping short of the file; said first, as the clearer reason. */
	if (!m->anonymous && m->offset != 0)
		return msg_fail(msg, EOPNOTSUPP, "offset %lld, not 0", (long long)m->offset);
	struct stat st;
	if (fstat(m->fd, &st) < 0)
		return msg_fail_errno(msg, errno);
	if (!S_ISREG(st.st_mode))
		return msg_fail(msg, EOPNOTSUPP, "the source is not a regular file");
	if ((uint64_t)st.st_size != m->len)
		return msg_fail(msg, EOPNOTSUPP, "length %zu, the file has %lld bytes", m->len,
			    (long long)st.st_size);
	return 0;
}

int mapping_with_exact_file(struct mapping *m, exact_file_user use, void *ctx, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = why_not_exact(m, msg);
	if (rc == 0)
		rc = use(ctx, m->fd);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}
