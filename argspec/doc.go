// Package argspec is the one table of what profgen knows about syscall
// arguments (Table): which arguments the recorder captures and under which
// mask, whether learn treats each as an enum or a flag set, which bits
// learn never allows together unless seen together (Exclusive), what the
// values mean on other architectures (Arch, ArchWhy, OpenFlagBits), and a
// place for their symbolic names (Names). Beside it, Purpose says what a
// program usually makes a syscall for (file writes, process control,
// network ...), which profgen reachable groups unseen syscalls by.
//
// Its readers: trace compiles the table into the masks the recorder
// captures under (trace/args.go) and writes each argument's kind, mask and
// exclusive bits into the recording, which learn generalises from; learn
// reads Arch to carry a profile over to another architecture (learn/arch.go)
// and the masks of the fixed calls a runtime makes (learn/runtime.go);
// the tests of both check against it. It imports neither trace nor learn,
// so both, and their tests, may import it.
package argspec
