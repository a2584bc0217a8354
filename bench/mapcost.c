/* mapcost.c - the cost of one `map` + `close` through the root ctl, as a
 * given user: N rounds on one open control file, best of R runs, printed in
 * microseconds per round. Used for doc/performance.md's "Opening as the
 * caller"; not built by make (cc -O2 -o mapcost bench/mapcost.c).
 *   mapcost CTL SOURCE [N [R [UID]]]   (SOURCE: a path, or anon) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int round_trip(int fd, const char *command)
{
	char buf[512];
	if (write(fd, command, strlen(command)) < 0)
		return -1;
	return read(fd, buf, sizeof buf) > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CTL SOURCE [N [RUNS [UID]]]\n", argv[0]);
		return 2;
	}
	int n = argc > 3 ? atoi(argv[3]) : 1000, runs = argc > 4 ? atoi(argv[4]) : 5;
	if (argc > 5) {
		uid_t uid = (uid_t)atoi(argv[5]);
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			perror("becoming the user");
			return 1;
		}
	}
	char map[4200];
	snprintf(map, sizeof map, "map %s%s name=mapcost", argv[2],
		 strcmp(argv[2], "anon") == 0 ? " length=4096" : " access=read");
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	double best = 1e9;
	for (int r = 0; r < runs; r++) {
		double t0 = now();
		for (int i = 0; i < n; i++) {
			if (round_trip(fd, map) < 0 || round_trip(fd, "close mapcost") < 0) {
				perror("map/close");
				return 1;
			}
		}
		double us = (now() - t0) * 1e6 / n;
		if (us < best)
			best = us;
	}
	printf("%.1f\n", best);
	return 0;
}
