/*
 * probe: the workload of the generated-source tests. It makes a fixed set
 * of syscalls and prints one line per call, "NAME ERRNO" (0 on success).
 *
 *   probe record    only the calls the test's profile is learned from:
 *                   getuid, prctl(PR_SET_NAME)
 *   probe enforce   those, plus getsid (not in the profile; getcwd is: learn
 *                   allows it after the fstat glibc's stdio makes) and
 *                   prctl(PR_SET_DUMPABLE) (prctl pinned to PR_SET_NAME)
 *   probe ptrace    the record calls, plus ptrace(PTRACE_PEEKDATA) of a pid
 *                   above any pid_max (not in the profile): ESRCH when
 *                   allowed, whatever the tracing rules of the sandbox
 *
 * Arguments after the mode are ignored (the tests pass odd ones).
 * Raw syscall(2) calls, so that libc neither caches nor substitutes them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc)
{
	printf("%s %d\n", name, rc < 0 ? errno : 0);
}

int main(int argc, char **argv)
{
	int enforce, ptrace;

	if (argc < 2 || (strcmp(argv[1], "record") && strcmp(argv[1], "enforce") && strcmp(argv[1], "ptrace"))) {
		fprintf(stderr, "usage: probe record|enforce|ptrace\n");
		return 2;
	}
	enforce = strcmp(argv[1], "enforce") == 0;
	ptrace = strcmp(argv[1], "ptrace") == 0;
	report("getuid", syscall(SYS_getuid));
	report("prctl-set-name", syscall(SYS_prctl, PR_SET_NAME, "probe", 0, 0, 0));
	if (enforce) {
		report("getsid", syscall(SYS_getsid, 0));
		report("prctl-set-dumpable", syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0));
	}
	if (ptrace)
		report("ptrace", syscall(SYS_ptrace, PTRACE_PEEKDATA, 0x7fffffff, 0, 0));
	return 0;
}
