/* guard.c - per-thread recovery from SIGBUS/SIGSEGV while copying.
 *
 * Each thread that enters guard_call() publishes a jump buffer and the
 * guarded range in thread-local slots; the handler jumps back only for a
 * fault the kernel raised (si_code > 0: not a kill(2) of the signal) on an
 * address in that range. Any other fault is a real bug: the handler
 * restores the default action and returns, so the faulting instruction
 * kills the process as usual. SA_NODEFER keeps the signal unblocked after
 * the jump, so sigsetjmp need not save the mask (which would cost a
 * syscall on every copy). */
#include "config.h"
#include "core/guard.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Thread-local, so no lock: only the owning thread and its signal handler
 * touch them. */
static _Thread_local sigjmp_buf *volatile active_jump;
static _Thread_local volatile uintptr_t guarded_lo, guarded_hi;

static bool fault_is_guarded(const siginfo_t *info)
{
	uintptr_t a = (uintptr_t)info->si_addr;
	return info->si_code > 0 && a >= guarded_lo && a < guarded_hi;
}

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	sigjmp_buf *env = active_jump;
	if (env && fault_is_guarded(info)) {
		active_jump = NULL;
		siglongjmp(*env, 1);
	}
	/* A fault re-runs its instruction and dies of it; a signal that was
	 * sent would not come again, so it is sent again. */
	signal(sig, SIG_DFL);
	if (info->si_code <= 0)
		raise(sig);
}

int guard_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int guard_call(const void *base, size_t len, void (*fn)(void *ctx), void *ctx)
{
	sigjmp_buf env;
	if (sigsetjmp(env, 0)) {
		active_jump = NULL;
		return -EIO;
	}
	guarded_lo = (uintptr_t)base;
	guarded_hi = (uintptr_t)base + len;
	active_jump = &env;
	fn(ctx);
	active_jump = NULL;
	return 0;
}

struct copy_args {
	void *dst;
	const void *src;
	size_t n;
};

static void do_memcpy(void *p)
{
	struct copy_args *a = p;
	memcpy(a->dst, a->src, a->n);
}

static void do_memmove(void *p)
{
	struct copy_args *a = p;
	memmove(a->dst, a->src, a->n);
}

/* An empty copy touches nothing (and memcpy may not be given NULL). */
int guard_read(void *dst, const void *mapped, size_t n)
{
	struct copy_args a = { dst, mapped, n };
	return n ? guard_call(mapped, n, do_memcpy, &a) : 0;
}

int guard_write(void *mapped, const void *src, size_t n)
{
	struct copy_args a = { mapped, src, n };
	return n ? guard_call(mapped, n, do_memcpy, &a) : 0;
}

int guard_memmove(void *dst, const void *src, size_t n)
{
	struct copy_args a = { dst, src, n };
	const char *lo = (const char *)(dst < src ? dst : src);
	const char *hi = (const char *)(dst < src ? src : dst) + n;
	return n ? guard_call(lo, (size_t)(hi - lo), do_memmove, &a) : 0;
}

struct probe {
	const volatile char *p;
	size_t n;
	volatile size_t ok;	/* bytes known readable; survives the jump */
};

static void do_probe(void *ctx)
{
	struct probe *pr = ctx;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < pr->n;) {
		(void)pr->p[i];
		size_t next = (size_t)(((uintptr_t)(pr->p + i) / page + 1) * page - (uintptr_t)pr->p);
		i = next < pr->n ? next : pr->n;
		pr->ok = i;
	}
}

size_t guard_probe(const void *p, size_t n)
{
	struct probe pr = { p, n, 0 };
	if (n)
		(void)guard_call(p, n, do_probe, &pr);
	return pr.ok;
}
