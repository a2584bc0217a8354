/* mmapctl_mount.c - the files of a mount as mmapctl uses them: paths, opening
 * a control file and running a command on it, reading attribute files, and
 * listing the mappings. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include "core/mapname.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The server's own rule (core/mapname.c), so mmapctl refuses exactly the
 * names the server would. */
bool mount_name_valid(const char *name)
{
	return mapname_valid(name, strlen(name));
}

char *mount_path(const char *mount, const char *fmt, ...)
{
	char *rel, *path;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&path, "%s/%s", mount, rel) < 0) {
		fputs("mmapctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	free(rel);
	return path;
}

/* Why a file of the mount could not be opened, in the words of the server. */
int mount_explain_missing(const char *mount, const char *name, const char *path, int err)
{
	if (err == ENOENT) {
		char *root = mount_path(mount, "ctl");
		bool is_mount = access(root, F_OK) == 0;
		free(root);
		if (!is_mount)
			complain("%s: not an mmapfs mount (it has no ctl file)", mount);
		else if (name)
			complain("no mapping named '%s'", name);
		else
			complain("%s: %s", path, strerror(err));
	} else {
		complain("%s: %s", path, strerror(err));
	}
	return -err;
}

int mount_open_ctl(const char *mount, const char *name)
{
	if (name && !mount_name_valid(name)) {
		complain("invalid mapping name '%s'", name);
		return -EINVAL;
	}
	char *path = name ? mount_path(mount, "maps/%s/ctl", name) : mount_path(mount, "ctl");
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int rc = fd >= 0 ? fd : mount_explain_missing(mount, name, path, errno);
	free(path);
	return rc;
}

int mount_check_mapping(const char *mount, const char *name)
{
	if (!mount_name_valid(name)) {
		complain("invalid mapping name '%s'", name);
		return -EINVAL;
	}
	char *path = mount_path(mount, "maps/%s", name);
	int rc = access(path, F_OK) == 0 ? 0 : mount_explain_missing(mount, name, path, errno);
	free(path);
	return rc;
}

/* The last refusal's message, for the hint that follows it. */
static char *last_message;

const char *server_message(void)
{
	return last_message ? last_message : "";
}

int mount_run_ctl(const char *mount, const char *name, const char *const *words, const size_t *lens,
	    size_t n, char **result)
{
	int fd = mount_open_ctl(mount, name);
	if (fd < 0)
		return fd;
	char *line = proto_command_line(words, lens, n);
	char *reply = NULL;
	int rc = line ? proto_exchange(fd, line, &reply) : -ENOMEM;
	close(fd);
	free(line);
	if (rc < 0) {
		/* the subject: the mapping, else the command's first word (map's
		 * source, close's NAME) */
		const char *subject = name ? name : n > 1 ? words[1] : NULL;
		const char *why = reply ? reply : strerror(-rc);
		if (subject)
			complain("%s %s: %s", words[0], subject, why);
		else
			complain("%s: %s", words[0], why);
		free(last_message);
		last_message = strdup(why);
	}
	if (rc == 0 && result)
		*result = reply;
	else
		free(reply);
	return rc;
}

int mount_read_file_text(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		if (n == cap) {
			char *bigger = realloc(buf, (cap *= 2) + 1);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR)
			rc = -errno;
		else if (r == 0)
			break;
		else if (r > 0)
			n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	if (len)
		*len = n;
	return 0;
}

int mount_read_attr(const char *mount, const char *name, const char *attr, char **value)
{
	char *path = mount_path(mount, "maps/%s/%s", name, attr);
	size_t len;
	int rc = mount_read_file_text(path, value, &len);
	free(path);
	if (rc == 0 && len > 0 && (*value)[len - 1] == '\n')
		(*value)[len - 1] = '\0';
	return rc;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Numbers first, in numeric order; then the other names, bytewise. */
static int name_order(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	bool dx = all_digits(x), dy = all_digits(y);
	if (dx != dy)
		return dx ? -1 : 1;
	if (dx && strlen(x) != strlen(y))
		return strlen(x) < strlen(y) ? -1 : 1;
	return strcmp(x, y);
}

void mount_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int mount_list_names(const char *mount, char ***names, size_t *n)
{
	char *path = mount_path(mount, "maps");
	DIR *d = opendir(path);
	int rc = d ? 0 : mount_explain_missing(mount, NULL, path, errno);
	free(path);
	char **v = NULL;
	size_t count = 0, cap = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		if (count == cap) {
			char **bigger = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			v = bigger;
		}
		if (!(v[count] = strdup(e->d_name)))
			rc = -ENOMEM;
		else
			count++;
	}
	if (d)
		closedir(d);
	if (rc < 0) {
		mount_free_names(v, count);
		return rc;
	}
	if (count > 1)
		qsort(v, count, sizeof *v, name_order);
	*names = v;
	*n = count;
	return 0;
}
