package trace

import (
	"testing"
)

// threadExecSrc execs argv[1] from a second thread while the main thread
// waits: the kernel kills the group leader, and the exec'ing thread goes
// on as the process under the same pid.
const threadExecSrc = `
#include <pthread.h>
#include <unistd.h>
static char **args;
static void *run(void *p) { (void)p; execv(args[1], args + 1); _exit(127); }
int main(int argc, char **argv) {
	pthread_t t;
	args = argv;
	if (argc < 2) return 2;
	pthread_create(&t, 0, run, 0);
	pause();
	return 1;
}
`

// TestRecordProcessTreeThreadExec: in process-tree mode, a process whose
// exec comes from a thread other than the main one is still followed
// after the exec, although its group leader exits. Both modes must see the
// same getppid count, all of it made after the exec.
func TestRecordProcessTreeThreadExec(t *testing.T) {
	launcher := buildC(t, "threadexec", threadExecSrc)
	bin := buildC(t, "known", knownSrc)
	for _, noCgroup := range []bool{false, true} {
		res := record(t, Options{Command: []string{launcher, bin, "9"}, NoCgroup: noCgroup})
		if res.ExitCode != 0 {
			t.Fatalf("NoCgroup=%v: exit %d", noCgroup, res.ExitCode)
		}
		if got := count(t, res.Recording, "getppid"); got != 9 {
			t.Errorf("NoCgroup=%v: getppid %d, want 9 (made after the exec from a thread)", noCgroup, got)
		}
	}
}
