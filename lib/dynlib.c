#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

/*
 * Open the shared library soname and set each symbol's slot to its
 * address.  Returns 0, or -1 with why (len bytes) saying what was missing.
 * The adapters open libcurl, libpq, libarchive and libcrypto this way when
 * first needed, so that no program pays for loading them at start-up.
 */
int
dsim_dynlib_open(const char *soname, const struct dsim_dynlib_sym *syms,
    size_t n, char *why, size_t len)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL), *sym;
	size_t i;

	if (h == NULL) {
		snprintf(why, len, "cannot load %s: %s", soname, dlerror());
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((sym = dlsym(h, syms[i].name)) == NULL) {
			snprintf(why, len, "%s lacks %s", soname, syms[i].name);
			return -1;
		}
		memcpy(syms[i].slot, &sym, sizeof sym);
	}
	return 0;
}
