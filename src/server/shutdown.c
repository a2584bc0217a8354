/* shutdown.c - the signal thread and the session loops it can always end
 * (see shutdown.h for why). */
#define FUSE_USE_VERSION 312
#include "config.h"
#include "server/shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* How often the waiting main thread is woken until the loop returns. */
#define WAKE_INTERVAL_NS (5 * 1000 * 1000)

enum phase {
	BEFORE,		/* the loop has not started */
	LOOPING,	/* a loop runs in loop_thread */
	OVER,		/* the loop has returned */
	DONE,		/* shutdown_finish: the signal thread ends */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* phase changed */
	enum phase phase;		/* under lock */
	bool multi;			/* under lock: the loop is libfuse's MT loop */
	pthread_t loop_thread;		/* under lock; meaningful while LOOPING */
	/* Fixed before the signal thread starts, read-only after. */
	struct fuse_session *se;
	int wake_fd;			/* eventfd: readable once a signal came */
	pthread_t thread;
	bool started;			/* only the main thread touches it */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER,
	 .wake_fd = -1 };

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static int wake_signal(void)
{
	return SIGRTMIN;
}

static void do_nothing(int sig)
{
	(void)sig;
}

/* A handler, not SIG_IGN: it interrupts a wait (EINTR), and exec resets it. */
static int set_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = do_nothing;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) < 0 ? -errno : 0;
}

int shutdown_block_signals(void)
{
	sigset_t set;
	stop_signals(&set);
	int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc != 0)
		return -rc;
	if ((rc = set_handler(SIGPIPE)) < 0)
		return rc;
	return set_handler(wake_signal());
}

static void set_phase(enum phase p)
{
	pthread_mutex_lock(&st.lock);
	st.phase = p;
	pthread_cond_broadcast(&st.changed);
	pthread_mutex_unlock(&st.lock);
}

/* End the session, then wake the loop until it has returned. */
static void stop_session(void)
{
	uint64_t one = 1;
	fuse_session_exit(st.se);
	/* The -s loop polls this; it stays readable, so nothing is missed. */
	if (write(st.wake_fd, &one, sizeof one) < 0)
		perror("mmapfs: waking the loop");
	pthread_mutex_lock(&st.lock);
	while (st.phase < OVER) {
		if (st.phase == LOOPING && st.multi)
			pthread_kill(st.loop_thread, wake_signal());
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += WAKE_INTERVAL_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&st.changed, &st.lock, &t);
	}
	pthread_mutex_unlock(&st.lock);
}

static void *signal_thread(void *arg)
{
	(void)arg;
	sigset_t set;
	stop_signals(&set);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	pthread_mutex_lock(&st.lock);
	bool finished = st.phase == DONE; /* shutdown_finish woke us: no signal */
	pthread_mutex_unlock(&st.lock);
	if (!finished)
		stop_session();
	return NULL;
}

int shutdown_start(struct fuse_session *se)
{
	st.se = se;
	st.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st.wake_fd < 0)
		return -errno;
	int rc = pthread_create(&st.thread, NULL, signal_thread, NULL);
	if (rc != 0) {
		close(st.wake_fd);
		st.wake_fd = -1;
		return -rc;
	}
	st.started = true;
	return 0;
}

static void loop_begins(bool multi)
{
	pthread_mutex_lock(&st.lock);
	st.multi = multi;
	st.loop_thread = pthread_self();
	st.phase = LOOPING;
	pthread_cond_broadcast(&st.changed);
	pthread_mutex_unlock(&st.lock);
}

int shutdown_serve_multi(struct fuse_session *se, struct fuse_loop_config *cfg)
{
	loop_begins(true);
	int rc = fuse_session_loop_mt(se, cfg);
	set_phase(OVER);
	return rc;
}

/* libfuse's fuse_session_loop, with the wait in poll(2) on the device and
 * the wake-up eventfd; the device is non-blocking, so a request withdrawn
 * between poll and read (its caller was killed) cannot block the read. */
int shutdown_serve_single(struct fuse_session *se)
{
	int fd = fuse_session_fd(se);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	struct fuse_buf buf = { .mem = NULL };
	int rc = 0;
	loop_begins(false);
	while (!fuse_session_exited(se)) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = st.wake_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		/* POLLERR too: after an unmount the read fails with ENODEV,
		 * which libfuse turns into 0, the end. */
		int res = fuse_session_receive_buf(se, &buf);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0) {
			rc = res;
			break;
		}
		fuse_session_process_buf(se, &buf);
	}
	free(buf.mem);
	set_phase(OVER);
	return rc;
}

void shutdown_finish(void)
{
	if (!st.started)
		return;
	set_phase(DONE);
	/* If no signal came, the thread still waits for one: give it one,
	 * addressed to it alone. */
	pthread_kill(st.thread, SIGTERM);
	pthread_join(st.thread, NULL);
	st.started = false;
	close(st.wake_fd);
	st.wake_fd = -1;
}
