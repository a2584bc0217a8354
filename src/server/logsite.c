/* logsite.c - the log's call sites in the FUSE layer, and serving `log`. */
#include "config.h"
#include "server/logsite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/command.h"

void log_request(struct server *s, fuse_req_t req, const char *file, const char *cmd,
		 size_t len, int rc, const char *value, const struct msg *msg)
{
	const struct fuse_ctx *who = fuse_req_ctx(req);
	struct cmdlog_origin o = { .pid = who->pid, .uid = who->uid };
	clock_gettime(CLOCK_REALTIME, &o.when);
	char shown[sizeof msg->text + 8];
	snprintf(shown, sizeof shown, "%s%s", rc < 0 ? "error: " : "", rc < 0 ? msg->text : value);
	cmdlog_add(&s->log, &o, file, cmd, len, shown);
}

/* FILE of a log line for one of a mapping's files. */
static void file_of_mapping(char *out, size_t cap, const struct mapping *m, enum kind k)
{
	snprintf(out, cap, "maps/%s/%s", m->name, tree_kind_name(k));
}

/* Log `VERB ARG` (ARG given as text of len bytes) through m's file k. */
static void log_change(struct server *s, fuse_req_t req, const struct mapping *m, enum kind k,
		       const char *verb, const char *arg, size_t len, int rc,
		       const struct msg *msg)
{
	char file[MAPNAME_MAX + 32];
	file_of_mapping(file, sizeof file, m, k);
	size_t vlen = strlen(verb);
	char *cmd = malloc(vlen + 1 + len + 1);
	if (!cmd)
		return;
	memcpy(cmd, verb, vlen);
	cmd[vlen] = ' ';
	memcpy(cmd + vlen + 1, arg, len);
	log_request(s, req, file, cmd, vlen + 1 + len, rc, "ok", msg);
	free(cmd);
}

int logged_attr_write(struct server *s, fuse_req_t req, struct mapping *m, enum kind k,
		      const char *buf, size_t size)
{
	struct msg msg = { "" };
	int rc = k == KIND_SIZE ? command_resize_text(m, buf, size, &msg)
				: command_seek_text(m, buf, size, &msg);
	/* `echo N > size` sends "N\n": the command it stands for is `resize N`. */
	size_t shown = size > 0 && buf[size - 1] == '\n' ? size - 1 : size;
	log_change(s, req, m, k, k == KIND_SIZE ? "resize" : "seek", buf, shown, rc, &msg);
	return rc;
}

int logged_truncate(struct server *s, fuse_req_t req, struct mapping *m, int64_t size)
{
	struct msg msg = { "" };
	int rc = mapping_resize(m, size, &msg);
	char n[24];
	int len = snprintf(n, sizeof n, "%lld", (long long)size);
	log_change(s, req, m, KIND_DATA, "resize", n, (size_t)len, rc, &msg);
	return rc;
}

/* A write that grows `data` is a resize the user did not type: it is logged
 * (as `resize NEW_LENGTH`) only when it changed the length, since a write
 * within the mapping, or one refused, changes nothing a command would. */
ssize_t logged_data_write(struct server *s, fuse_req_t req, struct mapping *m,
			  const char *buf, size_t size, off_t off, bool append)
{
	struct mapping_info before, after;
	mapping_info(m, &before);
	ssize_t rc = append ? mapping_append(m, buf, size, NULL)
			    : mapping_write_at(m, (uint64_t)off, buf, size, true, NULL);
	if (rc < 0 || size == 0)
		return rc;
	mapping_info(m, &after);
	if (after.len != before.len) {
		char n[24];
		int len = snprintf(n, sizeof n, "%zu", after.len);
		log_change(s, req, m, KIND_DATA, "resize", n, (size_t)len, 0, NULL);
	}
	return rc;
}

int log_open(struct server *s, fuse_req_t req, struct cmdlog_snap **out)
{
	uid_t uid = fuse_req_ctx(req)->uid;
	bool all = !s->allow_other || uid == 0 || uid == s->uid;
	return cmdlog_snapshot(&s->log, all, uid, out);
}

void log_read(fuse_req_t req, const struct cmdlog_snap *snap, size_t size, off_t off)
{
	size_t total = cmdlog_snap_size(snap);
	size_t n = (size_t)off >= total ? 0 : total - (size_t)off < size ? total - (size_t)off : size;
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fuse_reply_buf(req, buf, cmdlog_snap_read(snap, (size_t)off, buf, n));
	free(buf);
}
