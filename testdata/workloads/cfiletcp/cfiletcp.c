/*
 * cfiletcp: a deterministic profgen test workload on glibc.
 *
 *   cfiletcp DIR
 *
 * File work inside DIR (which must exist): create a subdirectory, create,
 * write, fsync, read back, stat, rename and unlink a file, remove the
 * subdirectory. TCP work on loopback: listen on 127.0.0.1:0, connect to
 * itself, send and receive a message each way, shut down and close.
 * Prints "cfiletcp: ok" and exits 0; any failure prints the failing call
 * and exits 1.
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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "cfiletcp: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char payload[] = "profgen cfiletcp payload\n";

static void file_work(const char *dir)
{
	char sub[2048], a[4096], b[4096], buf[sizeof(payload)];
	struct stat st;
	int fd;

	if (strlen(dir) > 1024) {
		fprintf(stderr, "cfiletcp: directory name too long\n");
		exit(2);
	}
	snprintf(sub, sizeof(sub), "%s/cfiletcp.d", dir);
	snprintf(a, sizeof(a), "%s/a.txt", sub);
	snprintf(b, sizeof(b), "%s/b.txt", sub);

	if (mkdir(sub, 0755) < 0 && errno != EEXIST)
		die("mkdir");
	fd = open(a, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open for write");
	if (write(fd, payload, sizeof(payload) - 1) != (ssize_t)(sizeof(payload) - 1))
		die("write");
	if (fsync(fd) < 0)
		die("fsync");
	if (close(fd) < 0)
		die("close");

	if (rename(a, b) < 0)
		die("rename");

	fd = open(b, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open for read");
	if (fstat(fd, &st) < 0)
		die("fstat");
	if (st.st_size != (off_t)(sizeof(payload) - 1)) {
		fprintf(stderr, "cfiletcp: size %lld, want %zu\n", (long long)st.st_size, sizeof(payload) - 1);
		exit(1);
	}
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)(sizeof(payload) - 1))
		die("pread");
	if (strcmp(buf, payload) != 0) {
		fprintf(stderr, "cfiletcp: read back %s, want %s", buf, payload);
		exit(1);
	}
	close(fd);

	if (unlink(b) < 0)
		die("unlink");
	if (rmdir(sub) < 0)
		die("rmdir");
}

static void xsend(int fd, const char *msg)
{
	size_t n = strlen(msg);
	if (send(fd, msg, n, 0) != (ssize_t)n)
		die("send");
}

static void xrecv(int fd, const char *want)
{
	char buf[128];
	size_t n = strlen(want), got = 0;
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r < 0)
			die("recv");
		if (r == 0) {
			fprintf(stderr, "cfiletcp: recv: unexpected EOF\n");
			exit(1);
		}
		got += r;
	}
	if (memcmp(buf, want, n) != 0) {
		fprintf(stderr, "cfiletcp: recv: got %.*s, want %s\n", (int)n, buf, want);
		exit(1);
	}
}

static void tcp_work(void)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int one = 1, ln, c, s;
	char eof;

	ln = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ln < 0)
		die("socket");
	if (setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (bind(ln, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(ln, 1) < 0)
		die("listen");
	if (getsockname(ln, (struct sockaddr *)&addr, &len) < 0)
		die("getsockname");

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		die("socket");
	if (connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	s = accept(ln, NULL, NULL);
	if (s < 0)
		die("accept");

	xsend(c, "ping");
	xrecv(s, "ping");
	xsend(s, "pong");
	xrecv(c, "pong");

	if (shutdown(c, SHUT_WR) < 0)
		die("shutdown");
	if (recv(s, &eof, 1, 0) != 0)
		die("recv eof");
	close(s);
	close(c);
	close(ln);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cfiletcp DIR\n");
		return 2;
	}
	file_work(argv[1]);
	tcp_work();
	printf("cfiletcp: ok\n");
	return 0;
}
