/* guard.c - per-thread recovery from SIGBUS/SIGSEGV while copying.
 *
 * Each thread that enters guarded_call() publishes a jump buffer in a
 * thread-local slot; the handler jumps back to it. A fault outside any
 * guarded call is a real bug: the handler restores the default action and
 * returns, so the faulting instruction kills the process as usual.
 * SA_NODEFER keeps the signal unblocked after the jump, so sigsetjmp need
 * not save the mask (which would cost a syscall on every copy). */
#include "config.h"
#include "core/guard.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

static _Thread_local sigjmp_buf *volatile active_jump;

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
	(void)info;
	(void)uctx;
	sigjmp_buf *env = active_jump;
	if (env) {
		active_jump = NULL;
		siglongjmp(*env, 1);
	}
	signal(sig, SIG_DFL);
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

int guarded_call(void (*fn)(void *ctx), void *ctx)
{
	sigjmp_buf env;
	if (sigsetjmp(env, 0)) {
		active_jump = NULL;
		return -EIO;
	}
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
int guarded_memcpy(void *dst, const void *src, size_t n)
{
	struct copy_args a = { dst, src, n };
	return n ? guarded_call(do_memcpy, &a) : 0;
}

int guarded_memmove(void *dst, const void *src, size_t n)
{
	struct copy_args a = { dst, src, n };
	return n ? guarded_call(do_memmove, &a) : 0;
}
