package reachable

// kernelMade are the syscalls a recording can hold that no instruction of
// the program makes: the kernel makes them itself.
var kernelMade = map[string]string{
	"restart_syscall": "made by the kernel to restart an interrupted call (nanosleep, poll, futex waits)",
}

// KernelMade returns why the kernel, not the program's code, makes the
// syscall name, or "".
func KernelMade(name string) string { return kernelMade[name] }
