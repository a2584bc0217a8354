/* names.h - the words users type and read for mmap's constants: access
 * modes, MAP_ flags, PROT_ bits and MADV_ advice. */
#ifndef MMAPFS_NAMES_H
#define MMAPFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msg.h"

enum access_mode { ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY };

const char *names_access_name(enum access_mode a);
int names_access_parse(const char *word, size_t len, enum access_mode *out, struct msg *m);

/* "shared,populate" -> MAP_SHARED|MAP_POPULATE. */
int names_flags_parse(const char *list, size_t len, int *out, struct msg *m);
/* MAP_PRIVATE|MAP_NORESERVE -> "private,noreserve". */
void names_flags_format(int flags, char *buf, size_t cap);

/* "read,write" -> PROT_READ|PROT_WRITE; "none" alone -> PROT_NONE. */
int names_prot_parse(const char *list, size_t len, int *out, struct msg *m);
void names_prot_format(int prot, char *buf, size_t cap);

/* "dontneed", "MADV_DONTNEED" (any case) or a number -> MADV_DONTNEED. */
int names_advice_parse(const char *word, size_t len, int *out, struct msg *m);
/* Advice that acts on the machine's hardware pages, not on the mapping. */
bool names_advice_is_hardware(int advice);

#endif
