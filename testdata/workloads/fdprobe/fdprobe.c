/*
 * fdprobe does to its standard input what an event loop (libuv) does: a
 * pipe or socket is made non-blocking with ioctl(FIONBIO), a regular file
 * is marked close-on-exec with ioctl(FIOCLEX), and a terminal is asked its
 * window size. Which ioctl request it makes depends on what the descriptor
 * is: a file on the host (< file), a pipe in a container.
 * Prints "fdprobe: KIND ok" and exits 0; exits 1 when an ioctl fails.
 */
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	struct stat st;
	const char *kind = "other";
	if (fstat(0, &st) < 0) {
		perror("fdprobe: fstat");
		return 1;
	}
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		int on = 1;
		kind = "pipe";
		if (ioctl(0, FIONBIO, &on) < 0) {
			perror("fdprobe: ioctl FIONBIO");
			return 1;
		}
	} else if (S_ISREG(st.st_mode)) {
		kind = "file";
		if (ioctl(0, FIOCLEX) < 0) {
			perror("fdprobe: ioctl FIOCLEX");
			return 1;
		}
	}
	if (isatty(0)) {
		struct winsize ws;
		kind = "terminal";
		if (ioctl(0, TIOCGWINSZ, &ws) < 0) {
			perror("fdprobe: ioctl TIOCGWINSZ");
			return 1;
		}
	}
	printf("fdprobe: %s ok\n", kind);
	return 0;
}
