/* LD_PRELOAD counting allocator for scripts/bench: counts calls to
 * malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign and prints
 * the totals to stderr at exit ("malloc-count: N allocations, B bytes").
 * Forwards to glibc's __libc_* entry points, so no dlsym bootstrapping. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long long count, total;

void *malloc(size_t n) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); __atomic_add_fetch(&total, n, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); __atomic_add_fetch(&total, a * b, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); __atomic_add_fetch(&total, n, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); __atomic_add_fetch(&total, n, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    void *p = memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

__attribute__((destructor)) static void report(void) {
    char line[128];
    int len = snprintf(line, sizeof line, "malloc-count: %llu allocations, %llu bytes\n", count, total);
    if (len > 0) { ssize_t w = write(2, line, (size_t)len); (void)w; }
}
