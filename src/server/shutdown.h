/* shutdown.h - ending the session on SIGINT, SIGTERM and SIGHUP, whenever
 * the signal arrives.
 *
 * libfuse 3.14's handlers only set the session's exit flag, and its
 * multi-threaded loop waits for that flag with `while (!exited)
 * sem_wait(&finish)`: a signal that lands between the check and the wait
 * is lost, and nothing else posts the semaphore (fixed upstream in 3.18).
 * So mmapfs blocks the three signals in every thread and takes them in a
 * thread of its own (sigwait), which ends the session and then wakes the
 * loop until it has returned:
 *   - multi-threaded: the main thread, the one that waits, is sent
 *     SIGRTMIN (its handler does nothing, and has no SA_RESTART, so
 *     sem_wait returns EINTR and the loop sees the flag) every few
 *     milliseconds, so a wake-up that lands before the wait is followed
 *     by one that lands in it. The workers finish the requests in
 *     hand and libfuse joins them.
 *   - single-threaded (-s): mmapfs runs its own loop, which polls the
 *     device and an eventfd that the signal thread makes readable, so
 *     there is no window at all and no signal ever interrupts a request.
 * Unmounting (fusermount3 -u) ends the loop as before (the device read
 * fails with ENODEV). Unmounting from the signal thread would not do: a
 * lazy unmount keeps the connection up while any file is open. */
#ifndef MMAPFS_SHUTDOWN_H
#define MMAPFS_SHUTDOWN_H

struct fuse_session;
struct fuse_loop_config;

/* Block SIGINT, SIGTERM and SIGHUP in the calling thread (and so in every
 * thread it creates later) and set the handlers for SIGPIPE (ignored) and
 * the wake-up signal. Call first, before any thread exists. 0 or -errno. */
int shutdown_block_signals(void);

/* Start the signal thread for se: after fuse_daemonize(), which forks.
 * A signal that came before is pending and ends the session now. */
int shutdown_start(struct fuse_session *se);

/* The session loops, each returning 0 or libfuse's negative error. */
int shutdown_serve_single(struct fuse_session *se);
int shutdown_serve_multi(struct fuse_session *se, struct fuse_loop_config *cfg);

/* After the loop: end the signal thread (if it started) and wait for it. */
void shutdown_finish(void);

#endif
