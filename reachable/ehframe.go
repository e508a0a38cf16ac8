package reachable

import (
	"debug/elf"
	"encoding/binary"
)

// ehFrameFDEs returns the [start, end) ranges of the frame descriptions of
// f's .eh_frame: the functions of a stripped library. A malformed section
// ends the walk (the ranges read so far are kept; the gaps are decoded as
// functions of their own anyway).
func ehFrameFDEs(f *elf.File) [][2]uint64 {
	s := f.Section(".eh_frame")
	if s == nil {
		return nil
	}
	b, err := s.Data()
	if err != nil {
		return nil
	}
	encs := map[int]byte{} // CIE offset -> FDE pointer encoding
	var out [][2]uint64
	for off := 0; off+8 <= len(b); {
		length := int(binary.LittleEndian.Uint32(b[off:]))
		hdr := 4
		if length == 0xffffffff {
			if off+12 > len(b) {
				break
			}
			length = int(binary.LittleEndian.Uint64(b[off+4:]))
			hdr = 12
		}
		if length == 0 {
			break
		}
		start := off + hdr
		end := start + length
		if end > len(b) || length < 4 {
			break
		}
		id := binary.LittleEndian.Uint32(b[start:])
		if id == 0 {
			encs[off] = cieEncoding(b[start+4 : end])
		} else {
			cie := start - int(id)
			enc, ok := encs[cie]
			if ok {
				p := start + 4
				pc, n := readEncoded(b[p:end], enc, s.Addr+uint64(p))
				if n > 0 {
					rng, m := readEncoded(b[p+n:end], enc&0x0f, 0)
					if m > 0 && pc != 0 {
						out = append(out, [2]uint64{pc, pc + rng})
					}
				}
			}
		}
		off = end
	}
	return out
}

// cieEncoding reads the FDE pointer encoding ('R') of a CIE body (after its
// id); absolute 8-byte pointers when it has none.
func cieEncoding(b []byte) byte {
	if len(b) < 1 {
		return 0
	}
	version := b[0]
	p := 1
	aug := ""
	for p < len(b) && b[p] != 0 {
		aug += string(b[p])
		p++
	}
	p++
	_, n := uleb(b[p:]) // code alignment
	p += n
	_, n = uleb(b[p:]) // data alignment (sleb; its length is all we need)
	p += n
	if version == 1 {
		p++
	} else {
		_, n = uleb(b[p:])
		p += n
	}
	if len(aug) == 0 || aug[0] != 'z' {
		return 0
	}
	_, n = uleb(b[p:])
	p += n
	for _, c := range aug[1:] {
		if p >= len(b) {
			return 0
		}
		switch c {
		case 'R':
			return b[p]
		case 'P':
			enc := b[p]
			p++
			_, n := readEncoded(b[p:], enc&0x0f, 0)
			p += n
		case 'L':
			p++
		}
	}
	return 0
}

func uleb(b []byte) (uint64, int) {
	var v uint64
	var shift uint
	for i, c := range b {
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, len(b)
}

// readEncoded reads a DW_EH_PE-encoded pointer at b, whose address is pc
// (for pc-relative encodings). It returns the value and its length (0 when
// unsupported).
func readEncoded(b []byte, enc byte, pc uint64) (uint64, int) {
	var v uint64
	var n int
	switch enc & 0x0f {
	case 0x00, 0x04, 0x0c:
		if len(b) < 8 {
			return 0, 0
		}
		v, n = binary.LittleEndian.Uint64(b), 8
	case 0x02:
		if len(b) < 2 {
			return 0, 0
		}
		v, n = uint64(binary.LittleEndian.Uint16(b)), 2
	case 0x0a:
		if len(b) < 2 {
			return 0, 0
		}
		v, n = uint64(int64(int16(binary.LittleEndian.Uint16(b)))), 2
	case 0x03:
		if len(b) < 4 {
			return 0, 0
		}
		v, n = uint64(binary.LittleEndian.Uint32(b)), 4
	case 0x0b:
		if len(b) < 4 {
			return 0, 0
		}
		v, n = uint64(int64(int32(binary.LittleEndian.Uint32(b)))), 4
	case 0x01:
		v, n = uleb(b)
	default:
		return 0, 0
	}
	switch enc & 0x70 {
	case 0x00:
	case 0x10:
		v += pc
	default:
		return 0, 0
	}
	return v, n
}
