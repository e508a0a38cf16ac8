/*
 * pauser: a container workload that makes no syscall but pause(2), in a
 * loop, so that a test can read the seccomp filter runc loaded for it
 * (PTRACE_SECCOMP_GET_FILTER) while it runs under a profile that allows
 * little else. No libc: build with cc -nostdlib -static. x86_64 only.
 */
void _start(void)
{
	for (;;)
		__asm__ volatile("syscall" : : "a"(34 /* SYS_pause */) : "rcx", "r11", "memory");
}
