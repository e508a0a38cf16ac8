/*
 * latecall sleeps, and then, given "late", makes a syscall it has not made
 * before (sysinfo) just before it ends: a program still showing new
 * behaviour at the end of its run. Without "late" it ends right after the
 * sleep (exit_group alone, which every process makes last), a program that
 * settled early. It leaves through _exit, so that stdio's flush adds no
 * call at the end.
 * Usage: latecall MILLISECONDS [late]; exits 0, 2 on bad usage.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "late") != 0)) {
		static const char usage[] = "usage: latecall MILLISECONDS [late]\n";
		write(2, usage, sizeof usage - 1);
		_exit(2);
	}
	long ms = strtol(argv[1], NULL, 10);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
	if (argc == 3) {
		struct sysinfo si;
		sysinfo(&si);
	}
	_exit(0);
}
