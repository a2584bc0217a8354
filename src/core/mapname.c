/* mapname.c - the one validator of mapping names. */
#include "config.h"
#include "core/mapname.h"

bool mapname_valid(const char *name, size_t len)
{
	if (len < 1 || len > MAPNAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}
