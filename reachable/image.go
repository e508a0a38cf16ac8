package reachable

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// analysisVersion changes whenever Image's content or its meaning changes, so
// that cached analyses of an older profgen are not read.
const analysisVersion = 4

// ErrNotELF is returned for a file that is not an ELF object.
var ErrNotELF = errors.New("not an ELF file")

// ErrNotAMD64 is returned for an ELF object of another architecture.
var ErrNotAMD64 = errors.New("not an x86_64 ELF object (only x86_64 is analysed)")

// Image is the analysis of one ELF file: its functions, their syscalls and
// their edges. It depends on the file's content only, so it is cached by
// build-id.
type Image struct {
	Version  int
	BuildID  string
	Interp   string
	Needed   []string
	Runpath  []string
	Rpath    []string
	Dynamic  bool // has a dynamic section
	Static   bool // an executable without PT_INTERP
	Stripped bool // no .symtab
	Go       bool
	Exec     bool // ET_EXEC or a PIE with PT_INTERP
	Funcs    []Func
	// Exports maps the defined function symbols of .dynsym to functions.
	Exports map[string]int
	// Imports are the undefined function symbols of .dynsym.
	Imports []string
	// LoadRoots are functions reachable whenever the image is loaded:
	// constructors, destructors and functions whose address is stored in
	// data (relocations outside the GOT).
	LoadRoots []int
	// LoadImports are imported functions whose address is stored in data.
	LoadImports []string
	// Entry is the function holding e_entry, or -1.
	Entry int
}

// Func is one function (a symbol's or an FDE's range, or a gap between
// them) and what its code does.
type Func struct {
	Start, End uint64
	Name       string
	Sys        []int // determined syscall numbers
	Undet      int   // syscall instructions with an undetermined number
	Calls      []int // local functions called, jumped to or address-taken
	Imports    []string
	Sites      []Site
	// GenericReg is set on functions whose syscall number is an argument:
	// "rdi" for C's syscall(3), "rax" for Go's syscall.Syscall family.
	GenericReg string
}

// Site is a call whose callee may be a generic syscall function, with the
// constants of the registers that carry the number (-1 when unknown).
type Site struct {
	Callee int    // local function, or -1
	Import string // imported function, when Callee is -1
	RAX    int64
	RDI    int64
	Stack  int64 // the 8 bytes at [rsp]: a Go ABI0 function's first argument
}

// goGeneric are the last elements of the names of Go's functions that take
// the syscall number as their first argument (in AX under ABIInternal).
var goGeneric = map[string]bool{
	"Syscall": true, "Syscall6": true, "Syscall9": true, "RawSyscall": true, "RawSyscall6": true,
	"rawSyscallNoError": true, "RawSyscallNoError": true, "SyscallNoError": true,
	"rawVforkSyscall": true,
}

// goGenericReg returns where the Go function name takes the syscall
// number ("rax" under ABIInternal, "stack" for an ABI0 function), or "".
func goGenericReg(name string) string {
	if n, ok := strings.CutSuffix(name, ".abi0"); ok {
		if isGoGeneric(n) {
			return "stack"
		}
		return ""
	}
	if isGoGeneric(name) {
		return "rax"
	}
	return ""
}

func isGoGeneric(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	pkg, fn := name[:i], name[i+1:]
	if !goGeneric[fn] {
		return false
	}
	return pkg == "syscall" || strings.HasSuffix(pkg, "runtime/syscall") || strings.HasSuffix(pkg, "runtime/syscall/linux") ||
		pkg == "golang.org/x/sys/unix"
}

// buildID returns the GNU build-id of f, or "".
func buildID(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		for len(b) >= 12 {
			nsz := f.ByteOrder.Uint32(b[0:])
			dsz := f.ByteOrder.Uint32(b[4:])
			typ := f.ByteOrder.Uint32(b[8:])
			off := 12 + int(align4(nsz))
			end := off + int(align4(dsz))
			if end > len(b) || off+int(dsz) > len(b) {
				break
			}
			if typ == 3 && nsz == 4 && string(b[12:15]) == "GNU" {
				return fmt.Sprintf("%x", b[off:off+int(dsz)])
			}
			b = b[end:]
		}
	}
	return ""
}

func align4(n uint32) uint32 { return (n + 3) &^ 3 }

// openELF opens path as an x86_64 ELF file.
func openELF(path string) (*elf.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	if _, err := io.ReadFull(fh, magic[:]); err != nil || string(magic[:]) != elf.ELFMAG {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrNotELF)
	}
	fh.Close()
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotAMD64, f.Machine)
	}
	return f, nil
}

// analyzeELF builds the Image of f.
func analyzeELF(f *elf.File) (*Image, error) {
	im := &Image{Version: analysisVersion, BuildID: buildID(f), Exports: map[string]int{}, Entry: -1}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return nil, fmt.Errorf("PT_INTERP: %w", err)
			}
			im.Interp = strings.TrimRight(string(b), "\x00")
		}
	}
	im.Dynamic = f.Section(".dynamic") != nil
	im.Static = im.Interp == "" && f.Type == elf.ET_EXEC || im.Interp == "" && !im.Dynamic
	im.Exec = f.Type == elf.ET_EXEC || im.Interp != ""
	im.Stripped = f.Section(".symtab") == nil
	im.Go = f.Section(".go.buildinfo") != nil || f.Section(".note.go.buildid") != nil
	if im.Dynamic {
		im.Needed, _ = f.DynString(elf.DT_NEEDED)
		im.Runpath = splitPaths(f.DynString(elf.DT_RUNPATH))
		im.Rpath = splitPaths(f.DynString(elf.DT_RPATH))
	}

	// Functions: symbols, FDEs, then the gaps of the executable sections.
	type rng struct {
		start, end uint64
		name       string
	}
	var rs []rng
	var syms []elf.Symbol
	if s, err := f.Symbols(); err == nil {
		syms = append(syms, s...)
	}
	dsyms, _ := f.DynamicSymbols()
	syms = append(syms, dsyms...)
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if (t == elf.STT_FUNC || t == elf.STT_GNU_IFUNC) && s.Section != elf.SHN_UNDEF && s.Value != 0 {
			end := s.Value + s.Size
			if s.Size == 0 {
				end = s.Value + 1
			}
			rs = append(rs, rng{s.Value, end, s.Name})
		}
	}
	if im.Go && im.Stripped {
		for _, fn := range goFuncs(f) {
			rs = append(rs, rng{fn.Entry, fn.End, fn.Name})
		}
	}
	for _, fde := range ehFrameFDEs(f) {
		rs = append(rs, rng{fde[0], fde[1], ""})
	}
	var code []*elf.Section
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR == 0 || s.Type != elf.SHT_PROGBITS {
			continue
		}
		if strings.HasPrefix(s.Name, ".plt") {
			continue
		}
		code = append(code, s)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].start != rs[j].start {
			return rs[i].start < rs[j].start
		}
		return rs[i].end > rs[j].end
	})
	// Merge: one function per start, the longest range, named when any
	// range is; clip overlaps.
	var funcs []rng
	for _, r := range rs {
		if inSections(code, r.start) == nil {
			continue
		}
		if n := len(funcs); n > 0 && funcs[n-1].start == r.start {
			if funcs[n-1].name == "" {
				funcs[n-1].name = r.name
			}
			continue
		}
		funcs = append(funcs, r)
	}
	for i := range funcs {
		if i+1 < len(funcs) && funcs[i].end > funcs[i+1].start {
			funcs[i].end = funcs[i+1].start
		}
		if s := inSections(code, funcs[i].start); s != nil && funcs[i].end > s.Addr+s.Size {
			funcs[i].end = s.Addr + s.Size
		}
	}
	// Gaps: code outside every function is a function of its own, so that
	// nothing is left undecoded.
	var all []rng
	for _, s := range code {
		at := s.Addr
		j := sort.Search(len(funcs), func(i int) bool { return funcs[i].start >= s.Addr })
		for ; j < len(funcs) && funcs[j].start < s.Addr+s.Size; j++ {
			if funcs[j].start > at {
				all = append(all, rng{at, funcs[j].start, ""})
			}
			all = append(all, funcs[j])
			at = funcs[j].end
		}
		if at < s.Addr+s.Size {
			all = append(all, rng{at, s.Addr + s.Size, ""})
		}
	}
	all = mergeFallThrough(code, all, func(r rng) (uint64, uint64) { return r.start, r.end },
		func(a, b rng) rng { return rng{a.start, b.end, a.name} })
	im.Funcs = make([]Func, len(all))
	for i, r := range all {
		im.Funcs[i] = Func{Start: r.start, End: r.end, Name: r.name}
		if im.Go {
			im.Funcs[i].GenericReg = goGenericReg(r.name)
		}
	}

	rel, err := readRelocs(f)
	if err != nil {
		return nil, err
	}
	plt := pltTargets(f, rel)
	for _, s := range dsyms {
		t := elf.ST_TYPE(s.Info)
		if t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC && !(t == elf.STT_NOTYPE && s.Section == elf.SHN_UNDEF) {
			continue
		}
		if s.Name == "" {
			continue
		}
		if s.Section == elf.SHN_UNDEF {
			im.Imports = append(im.Imports, s.Name)
		} else if i := im.funcAt(s.Value); i >= 0 {
			if _, dup := im.Exports[s.Name]; !dup {
				im.Exports[s.Name] = i
			}
		}
	}
	if i := im.funcAt(f.Entry); i >= 0 {
		im.Entry = i
	}

	d := &decoder{im: im, f: f, rel: rel, plt: plt}
	for _, s := range code {
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		j := sort.Search(len(im.Funcs), func(i int) bool { return im.Funcs[i].Start >= s.Addr })
		for ; j < len(im.Funcs) && im.Funcs[j].Start < s.Addr+s.Size; j++ {
			fn := &im.Funcs[j]
			d.decode(j, data[fn.Start-s.Addr:fn.End-s.Addr], fn.Start)
		}
	}
	d.finish()

	// Load roots: constructors and destructors, code addresses in data.
	for _, tag := range []elf.DynTag{elf.DT_INIT, elf.DT_FINI} {
		if v, err := f.DynValue(tag); err == nil {
			for _, a := range v {
				if i := im.funcAt(a); i >= 0 {
					im.LoadRoots = append(im.LoadRoots, i)
				}
			}
		}
	}
	seen := map[int]bool{}
	imp := map[string]bool{}
	for off, r := range rel {
		if inGOT(f, off) {
			continue
		}
		if r.sym != "" {
			if r.undef && r.fn && !imp[r.sym] {
				imp[r.sym] = true
				im.LoadImports = append(im.LoadImports, r.sym)
			}
			if !r.undef && r.fn {
				if i := im.funcAt(r.value); i >= 0 && !seen[i] {
					seen[i] = true
					im.LoadRoots = append(im.LoadRoots, i)
				}
			}
			continue
		}
		if i := im.funcAt(r.value); i >= 0 && !seen[i] {
			seen[i] = true
			im.LoadRoots = append(im.LoadRoots, i)
		}
	}
	sort.Ints(im.LoadRoots)
	sort.Strings(im.LoadImports)
	sort.Strings(im.Imports)
	return im, nil
}

func splitPaths(v []string, _ error) []string {
	var out []string
	for _, s := range v {
		for _, p := range strings.Split(s, ":") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func inSections(ss []*elf.Section, a uint64) *elf.Section {
	for _, s := range ss {
		if a >= s.Addr && a < s.Addr+s.Size {
			return s
		}
	}
	return nil
}

func inGOT(f *elf.File, a uint64) bool {
	for _, n := range []string{".got", ".got.plt"} {
		if s := f.Section(n); s != nil && a >= s.Addr && a < s.Addr+s.Size {
			return true
		}
	}
	return false
}

// funcAt returns the function holding address a, or -1.
func (im *Image) funcAt(a uint64) int {
	i := sort.Search(len(im.Funcs), func(i int) bool { return im.Funcs[i].End > a })
	if i < len(im.Funcs) && im.Funcs[i].Start <= a {
		return i
	}
	return -1
}

// reloc is one dynamic relocation: a symbol (sym, undef, fn) or a value
// (the addend of RELATIVE/IRELATIVE, or RELR's stored address).
type reloc struct {
	sym   string
	undef bool
	fn    bool
	value uint64
	slot  bool // JUMP_SLOT
}

const (
	rX86_64_64        = 1
	rX86_64_GLOB_DAT  = 6
	rX86_64_JUMP_SLOT = 7
	rX86_64_RELATIVE  = 8
	rX86_64_IRELATIVE = 37
	shtRELR           = 19
)

// readRelocs reads every dynamic relocation of f, keyed by the address it
// patches.
func readRelocs(f *elf.File) (map[uint64]reloc, error) {
	out := map[uint64]reloc{}
	dsyms, _ := f.DynamicSymbols()
	for _, s := range f.Sections {
		switch {
		case s.Type == elf.SHT_RELA:
			b, err := s.Data()
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", s.Name, err)
			}
			for ; len(b) >= 24; b = b[24:] {
				off := binary.LittleEndian.Uint64(b)
				info := binary.LittleEndian.Uint64(b[8:])
				add := binary.LittleEndian.Uint64(b[16:])
				typ, si := uint32(info), int(info>>32)
				switch typ {
				case rX86_64_RELATIVE, rX86_64_IRELATIVE:
					out[off] = reloc{value: add}
				case rX86_64_64, rX86_64_GLOB_DAT, rX86_64_JUMP_SLOT:
					if si == 0 || si > len(dsyms) {
						continue
					}
					sym := dsyms[si-1]
					t := elf.ST_TYPE(sym.Info)
					out[off] = reloc{sym: sym.Name, undef: sym.Section == elf.SHN_UNDEF,
						fn:    t == elf.STT_FUNC || t == elf.STT_GNU_IFUNC || (t == elf.STT_NOTYPE && sym.Section == elf.SHN_UNDEF),
						value: sym.Value + add, slot: typ == rX86_64_JUMP_SLOT}
				}
			}
		case uint32(s.Type) == shtRELR:
			b, err := s.Data()
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", s.Name, err)
			}
			var base uint64
			for ; len(b) >= 8; b = b[8:] {
				e := binary.LittleEndian.Uint64(b)
				if e&1 == 0 {
					out[e] = reloc{value: readAddr(f, e)}
					base = e + 8
					continue
				}
				for i := uint64(0); i < 63; i++ {
					if e>>(i+1)&1 == 1 {
						a := base + i*8
						out[a] = reloc{value: readAddr(f, a)}
					}
				}
				base += 63 * 8
			}
		}
	}
	return out, nil
}

// readAddr reads the 8 bytes stored at virtual address a (RELR's implicit
// addend).
func readAddr(f *elf.File, a uint64) uint64 {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && a >= p.Vaddr && a+8 <= p.Vaddr+p.Filesz {
			var b [8]byte
			if _, err := p.ReadAt(b[:], int64(a-p.Vaddr)); err == nil {
				return binary.LittleEndian.Uint64(b[:])
			}
		}
	}
	return 0
}

// mergeFallThrough merges each range into the next when its code falls
// through into it: the last instruction straddles the boundary or neither
// transfers control nor calls (frame descriptions split some functions,
// such as glibc's signal trampoline, whose FDE starts a byte early, and the
// child's half of clone3).
func mergeFallThrough[R any](code []*elf.Section, rs []R, bounds func(R) (uint64, uint64), join func(a, b R) R) []R {
	data := map[*elf.Section][]byte{}
	var out []R
	for _, r := range rs {
		if n := len(out); n > 0 {
			ps, pe := bounds(out[n-1])
			cs, _ := bounds(r)
			if pe == cs {
				if s := inSections(code, ps); s != nil && s == inSections(code, cs) {
					b, ok := data[s]
					if !ok {
						b, _ = s.Data()
						data[s] = b
					}
					if b != nil && fallsThrough(b[ps-s.Addr:min(pe+16, s.Addr+s.Size)-s.Addr], int(pe-ps)) {
						out[n-1] = join(out[n-1], r)
						continue
					}
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// fallsThrough reports whether linear decoding of b[:n] runs off its end
// into what follows (b goes on past n).
func fallsThrough(b []byte, n int) bool {
	var last x86asm.Op
	off := 0
	for off < n {
		inst, err := x86asm.Decode(b[off:], 64)
		if err != nil {
			off++
			last = 0
			continue
		}
		last = inst.Op
		off += inst.Len
	}
	if off > n {
		return true
	}
	switch last {
	case x86asm.JMP, x86asm.RET, x86asm.HLT, x86asm.UD2, x86asm.CALL, x86asm.INT, x86asm.NOP, 0:
		return false
	}
	return !ends(last)
}

// goFuncs returns the functions of a Go binary's .gopclntab, which -s does
// not strip.
func goFuncs(f *elf.File) []gosym.Func {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	b, err := pcln.Data()
	if err != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(b, text.Addr))
	if err != nil {
		return nil
	}
	// The table's addresses are offsets from runtime.text, which cgo's C
	// code may move past .text's start: calibrate with a function the
	// dynamic symbols or the entry point name.
	byName := map[string]uint64{}
	for _, fn := range tab.Funcs {
		byName[fn.Name] = fn.Entry
	}
	delta, found := uint64(0), false
	dsyms, _ := f.DynamicSymbols()
	for _, s := range dsyms {
		if e, ok := byName[s.Name]; ok && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			delta, found = s.Value-e, true
			break
		}
	}
	if !found {
		if e, ok := byName["_rt0_amd64_linux"]; ok {
			delta = f.Entry - e
		}
	}
	for i := range tab.Funcs {
		tab.Funcs[i].Entry += delta
		tab.Funcs[i].End += delta
	}
	return tab.Funcs
}

// sharedObject reports whether the file at path is an x86_64 ELF shared
// object a process can load with dlopen(3): ET_DYN, neither a
// position-independent executable (DF_1_PIE, or PT_INTERP without a
// DT_SONAME: glibc's libc.so.6 has both, a PIE no soname) nor anything but
// a regular file. A file that is not ELF or of another architecture is not
// one; an error is a file that could not be read.
func sharedObject(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, nil
	}
	f, err := openELF(path)
	if errors.Is(err, ErrNotELF) || errors.Is(err, ErrNotAMD64) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return false, nil
	}
	if v, err := f.DynValue(elf.DT_FLAGS_1); err == nil && len(v) > 0 && elf.DynFlag1(v[0])&elf.DF_1_PIE != 0 {
		return false, nil
	}
	soname, _ := f.DynString(elf.DT_SONAME)
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP && len(soname) == 0 {
			return false, nil
		}
	}
	return true, nil
}
