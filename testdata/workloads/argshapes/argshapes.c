/*
 * argshapes: a profgen test workload for argument-shape learning.
 *
 *   argshapes [--variant netlink|packet|ioctl|dumpable|wx]
 *
 * Normal work (always done, first):
 *   socket(AF_INET, SOCK_STREAM, 0)
 *   socket(AF_UNIX, SOCK_DGRAM, 0)
 *   ioctl(open("/dev/null"), TCGETS)          fails with ENOTTY: accepted
 *   prctl(PR_SET_NAME, "argshapes")
 *   mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS), munmap
 *
 * Then, with --variant, exactly one call with a shape the normal mode never
 * uses:
 *   netlink   socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)
 *   packet    socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))  (needs CAP_NET_RAW)
 *   ioctl     ioctl(open("/dev/null"), TIOCSTI)   (ENOTTY when allowed: accepted)
 *   dumpable  prctl(PR_SET_DUMPABLE, 1)
 *   wx        mmap(PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS)
 *
 * Exit status: 0 when everything succeeded; 42 when the variant call failed
 * with EPERM (what a seccomp profile's default ERRNO action returns); 1 on any
 * other failure; 2 on bad usage. The failing call is named on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_DENIED 42

static int fail(const char *call, int variant)
{
	int e = errno;
	fprintf(stderr, "argshapes: %s: %s\n", call, strerror(e));
	return (variant && e == EPERM) ? EXIT_DENIED : 1;
}

static int normal(void)
{
	struct termios tio;
	void *p;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket(AF_INET, SOCK_STREAM, 0)", 0);
	close(fd);

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket(AF_UNIX, SOCK_DGRAM, 0)", 0);
	close(fd);

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open(/dev/null)", 0);
	/* Not a terminal: ENOTTY is the expected answer, but the call is made. */
	if (ioctl(fd, TCGETS, &tio) < 0 && errno != ENOTTY)
		return fail("ioctl(TCGETS)", 0);
	close(fd);

	if (prctl(PR_SET_NAME, "argshapes", 0, 0, 0) < 0)
		return fail("prctl(PR_SET_NAME)", 0);

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap(PROT_READ|PROT_WRITE)", 0);
	memset(p, 0x5a, 4096);
	if (munmap(p, 4096) < 0)
		return fail("munmap", 0);
	return 0;
}

static int variant(const char *name)
{
	void *p;
	int fd;

	if (strcmp(name, "netlink") == 0) {
		fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (fd < 0)
			return fail("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", 1);
		close(fd);
	} else if (strcmp(name, "packet") == 0) {
		fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		if (fd < 0)
			return fail("socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)", 1);
		close(fd);
	} else if (strcmp(name, "ioctl") == 0) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return fail("open(/dev/null)", 0);
		char c = 'x';
		/* Not a terminal: allowed, it fails with ENOTTY (accepted). */
		if (ioctl(fd, TIOCSTI, &c) < 0 && errno != ENOTTY)
			return fail("ioctl(TIOCSTI)", 1);
		close(fd);
	} else if (strcmp(name, "dumpable") == 0) {
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			return fail("prctl(PR_SET_DUMPABLE, 1)", 1);
	} else if (strcmp(name, "wx") == 0) {
		p = mmap(NULL, 4096, PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap(PROT_WRITE|PROT_EXEC)", 1);
		munmap(p, 4096);
	} else {
		fprintf(stderr, "argshapes: unknown variant %s\n", name);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *v = NULL;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--variant") == 0)
		v = argv[2];
	else if (argc == 2 && strncmp(argv[1], "--variant=", 10) == 0)
		v = argv[1] + 10;
	else if (argc != 1) {
		fprintf(stderr, "usage: argshapes [--variant netlink|packet|ioctl|dumpable|wx]\n");
		return 2;
	}

	rc = normal();
	if (rc != 0)
		return rc;
	if (v != NULL) {
		rc = variant(v);
		if (rc != 0)
			return rc;
	}
	printf("argshapes: ok (%s)\n", v ? v : "normal");
	return 0;
}
