package abi

// X32SyscallBit is __X32_SYSCALL_BIT (arch/x86/include/uapi/asm/unistd.h):
// x32 syscalls carry the x86_64 audit architecture and their number with
// this bit set. golang.org/x/sys/unix does not define it.
const X32SyscallBit = 0x40000000
