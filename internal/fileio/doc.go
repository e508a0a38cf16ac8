// Package fileio opens profgen's input and output files so that neither can
// harm what is at a path.
//
// Outputs ([Create], [Write]): "-" is standard output; a new path or a
// regular file is written to a temporary file beside it, named
// .NAME.profgen-tmp-PID-RANDOM, and renamed over it only once everything
// was written and synced (a new file gets 0666 less the umask, an existing
// one keeps its mode and owner); a symbolic link is written through to its
// target, which is what gets replaced; a character device, a FIFO, or a
// link into /proc (/dev/stdout, /dev/fd/N) is opened and written straight
// into, never replaced. A directory, a block device or a socket is refused,
// and so is a file of the kernel's interface file systems (proc, sysfs,
// cgroup, ...) or a new file in one of their directories.
// The temporary file is locked (flock) while it is written, and a Create
// of a path another File is writing (of any process) is refused.
// Temporary files of profgen processes that no longer run are removed by
// the next Create of the same path, and [RemoveTemps] removes the current
// process's own (the CLI calls it when a signal ends it).
//
// Inputs ([ReadFile]): "-" is standard input; anything else must be a
// regular file (a FIFO, a device or a directory is refused at once, without
// blocking), and no input may be larger than a limit.
package fileio
