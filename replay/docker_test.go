package replay

import "testing"

func TestInteractive(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-i"}, true},
		{[]string{"--network=host", "-it"}, true},
		{[]string{"--interactive"}, true},
		{[]string{"--interactive=true"}, true},
		{[]string{"--interactive=false"}, false},
		{[]string{"-v", "/data:/data", "--init"}, false},
		{[]string{"-e", "X=i"}, false},
		{nil, false},
	} {
		if got := interactive(tc.args); got != tc.want {
			t.Errorf("interactive(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
