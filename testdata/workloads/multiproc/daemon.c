/*
 * daemon: a classic double-forking daemon for profgen tests.
 *
 *   daemon ABSFILE [SLEEP_MS]
 *
 * The original process forks and exits 0 at once. The child calls setsid()
 * and forks again; the intermediate child exits 0. The grandchild (the
 * daemon, no longer a descendant the original parent waits for) redirects
 * stdio to /dev/null, sets umask(022), chdir("/"), calls getppid() 100 times,
 * sleeps SLEEP_MS milliseconds (default 300), then writes
 * "daemon PID sid SID ppid PPID done\n" (one more getsid and getppid call)
 * to ABSFILE.tmp, renames it to ABSFILE, and exits 0.
 * Watching for ABSFILE tells a test the daemon has finished its work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define GETPPID_CALLS 100

static void die(const char *what)
{
	/* stderr may already be /dev/null in the daemon; the exit status remains. */
	fprintf(stderr, "daemon: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	char tmp[4096], msg[128];
	long sleep_ms = 300;
	struct timespec ts;
	pid_t pid;
	int fd, i, n;

	if (argc < 2 || argc > 3 || argv[1][0] != '/') {
		fprintf(stderr, "usage: daemon ABSFILE [SLEEP_MS]\n");
		return 2;
	}
	if (argc == 3)
		sleep_ms = strtol(argv[2], NULL, 10);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= sizeof(tmp)) {
		fprintf(stderr, "daemon: file name too long\n");
		return 2;
	}

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0)
		return 0; /* original parent: exit at once */

	if (setsid() < 0)
		die("setsid");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0)
		_exit(0); /* intermediate child */

	/* The daemon. */
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		die("open /dev/null");
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		die("dup2");
	if (fd > 2)
		close(fd);
	umask(022);
	if (chdir("/") < 0)
		die("chdir");

	for (i = 0; i < GETPPID_CALLS; i++)
		(void)getppid();

	ts.tv_sec = sleep_ms / 1000;
	ts.tv_nsec = (sleep_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;

	n = snprintf(msg, sizeof(msg), "daemon %d sid %d ppid %d done\n",
		     (int)getpid(), (int)getsid(0), (int)getppid());
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open");
	if (write(fd, msg, n) != n)
		die("write");
	if (close(fd) < 0)
		die("close");
	if (rename(tmp, argv[1]) < 0)
		die("rename");
	return 0;
}
