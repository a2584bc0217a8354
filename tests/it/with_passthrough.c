/* with_passthrough.c - linked into a second build of an existing suite
 * (-Wl,--wrap=mnt_start): every mount it makes gets -o passthrough as
 * well, so the suite shows that what it tests behaves the same with the
 * option (issue 13: "every other mapping is served as without it"). */
#include <stdio.h>

#include "lib/harness.h"

void __real_mnt_start(struct mnt *m, const char *opts);
void __wrap_mnt_start(struct mnt *m, const char *opts);

void __wrap_mnt_start(struct mnt *m, const char *opts)
{
	char all[512];
	snprintf(all, sizeof all, "%s%spassthrough", opts ? opts : "", opts ? "," : "");
	__real_mnt_start(m, all);
}
