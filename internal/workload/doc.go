// Package workload builds the bundled test workloads under
// testdata/workloads and runs them under strace, an oracle of their system
// calls that is independent of profgen's own backends. It is meant for tests
// only.
//
// Workloads are named by their path below testdata/workloads:
//
//	httpserver           Go HTTP server (--addr, default 127.0.0.1:18080)
//	httpserver/driver    Go client making a fixed set of requests (--addr)
//	cfiletcp             C: file and loopback TCP work in the directory argv[1]
//	multiproc/daemon.c   C: double-forking daemon (ABSFILE [SLEEP_MS])
//	multiproc/threads.c  C: pthreads ([N])
//	tcpdaemon            C: TCP server that double-forks, its first process exits 0 at once (PORT [DELAY_MS])
//	multiproc/pipeline.sh  a /bin/sh pipeline (use Path, not Build)
//	argshapes            C: argument shapes ([--variant V])
//	manycalls            C: N getppid calls then personality(0xffffffff)
//	fdprobe              C: ioctl on stdin by descriptor kind (FIONBIO, FIOCLEX, TIOCGWINSZ)
//	manyshapes           C: N distinct ioctl requests, then sched_yield and getpgid
//	envprobe             C: calls by environment and timing (stdout kind, PWD, --return-memory)
//	dlplugin/dlplugin.c  C: dlopen()s the plug-in argv[1] and calls its plugin_run (none: loads nothing)
//	dlplugin/plugin.c    C shared library (BuildShared): plugin_run calls getpriority
//	servingserver        Go HTTP server that stacks profgen's serving filter after listen (BuildGoWith, tag profgen_filter)
//
// Build compiles a workload once per test binary and returns the path of the
// executable (BuildGoWith: with build tags and generated files added;
// BuildShared: a C file as a shared library);
// Path returns the path of a source file or script; Strace and
// StartStrace run a command under `strace -f` and return how many times each
// system call was seen.
package workload
