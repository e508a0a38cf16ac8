package main

import (
	"fmt"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestJudge: the verdicts of an engine's profile on recorded calls, where
// the captured values decide them (a masked comparison within the capture
// mask), where they do not (an equality on a 32-bit capture: maybe), and
// for a syscall whose entries have different actions (maybe, each refusing
// action); allowed calls are not listed.
func TestJudge(t *testing.T) {
	profile := `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[
		{"names":["read","write","futex"],"action":"SCMP_ACT_ALLOW"},
		{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2080505856,"op":"SCMP_CMP_MASKED_EQ"}]},
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":22,"args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]},
		{"names":["kill"],"action":"SCMP_ACT_KILL_PROCESS"}]}`
	u32 := recording.Hex(0xffffffff)
	rec := &recording.Recording{Syscalls: []recording.Syscall{
		{Name: "read", Count: 5},
		{Name: "clone", Count: 3, Args: []recording.Arg{{Index: 0, Kind: recording.KindFlags, Mask: ^recording.Hex(0)}},
			Shapes: []recording.Shape{{Values: []recording.Hex{0x3d0f00}, Count: 2}, {Values: []recording.Hex{0x10000000}, Count: 1}}},
		{Name: "personality", Count: 1, Args: []recording.Arg{{Index: 0, Kind: recording.KindEnum, Mask: u32}},
			Shapes: []recording.Shape{{Values: []recording.Hex{8}, Count: 1}}},
		{Name: "socket", Count: 2},
		{Name: "getcpu", Count: 4},
		{Name: "kill", Count: 1},
	}}
	ep := judge(rec, []byte(profile), false)
	if ep.Unjudged != "" || ep.DefaultAction != "SCMP_ACT_ERRNO" || ep.DefaultErrno != 38 {
		t.Fatalf("%+v", ep)
	}
	var got []string
	for _, f := range ep.Refused {
		got = append(got, fmt.Sprintf("%s %s %d %s %v maybe=%v %d", f.Name, f.Action, f.Errno, f.ErrnoName, f.Values, f.Maybe, f.Count))
	}
	want := []string{
		// CLONE_NEWUSER (0x10000000) is within the mask: decided.
		"clone SCMP_ACT_ERRNO 38 ENOSYS [268435456] maybe=false 1",
		"personality SCMP_ACT_ERRNO 38 ENOSYS [] maybe=true 1",
		"socket SCMP_ACT_ERRNO 22 EINVAL [] maybe=true 2",
		"getcpu SCMP_ACT_ERRNO 38 ENOSYS [] maybe=false 4",
		"kill SCMP_ACT_KILL_PROCESS 0  [] maybe=false 1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused:\n  %q\nwant\n  %q", got, want)
	}
	if ep := judge(rec, []byte(profile), true); !ep.Enforced || len(ep.Refused) != 0 || ep.Unjudged != "" {
		t.Errorf("enforced: %+v", ep)
	}
	if ep := judge(rec, []byte(`{"defaultAction":"SCMP_ACT_NOTIFY"}`), false); ep.Unjudged == "" || len(ep.Refused) != 0 {
		t.Errorf("an unreadable profile: %+v", ep)
	}
}
