/* abi.c makes getppid through the two other ABIs of an x86_64 kernel: i386
 * (int $0x80, i386 number 64) and x32 (the x86_64 number 110 with
 * __X32_SYSCALL_BIT; a kernel without x32 fails it with ENOSYS, after
 * seccomp has seen it). */
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
	long r;
	__asm__ volatile ("int $0x80" : "=a"(r) : "a"(64L) : "memory");
	syscall(0x40000000L | 110);
	return 0;
}
