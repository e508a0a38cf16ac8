/*
 * tcpdaemon: a TCP server that daemonises the classic way, as apache,
 * nginx and haproxy do by default, for profgen tests.
 *
 *   tcpdaemon PORT [DELAY_MS]
 *
 * The original process forks and exits 0 at once. The child calls setsid()
 * and forks again; the intermediate child exits 0. The grandchild (the
 * daemon) redirects stdio to /dev/null, waits DELAY_MS milliseconds
 * (default 200: it listens only well after its first process exited),
 * listens on 127.0.0.1:PORT and serves each connection with accept4: it
 * reads the request's head (up to its empty line), calls getppid() 7 times, answers
 * "HTTP/1.0 200 OK" with the body "ok\n" and closes it. It runs until it
 * is killed (SIGTERM ends it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "tcpdaemon: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * read_request reads from c until the end of an HTTP request's head (an
 * empty line) or of the stream: a client may send its request in pieces,
 * and closing a socket with unread data resets the connection. It returns
 * the bytes read (0: nothing before the end of the stream), or -1.
 */
static ssize_t read_request(int c, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1) {
		n = read(c, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
		buf[got] = 0;
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			break;
	}
	return got;
}

int main(int argc, char **argv)
{
	static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
	struct sockaddr_in addr;
	struct timespec ts;
	long delay_ms = 200;
	char buf[4096];
	int port, fd, l, c, i, one = 1;
	pid_t pid;

	if (argc < 2 || argc > 3 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: tcpdaemon PORT [DELAY_MS]\n");
		return 2;
	}
	if (argc == 3)
		delay_ms = strtol(argv[2], NULL, 10);

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

	ts.tv_sec = delay_ms / 1000;
	ts.tv_nsec = (delay_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(l, 64) < 0)
		die("listen");
	for (;;) {
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept4");
		}
		/* A readiness probe connects and closes without a word. */
		if (read_request(c, buf, sizeof(buf)) > 0) {
			for (i = 0; i < 7; i++)
				(void)getppid();
			if (write(c, reply, sizeof(reply) - 1) < 0) {
				/* the client left: nothing to do */
			}
		}
		close(c);
	}
}
