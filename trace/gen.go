package trace

//go:generate go tool bpf2go -tags linux -target amd64 -go-package trace recorder bpf/recorder.c -- -I/usr/include/x86_64-linux-gnu -Wall -Werror -O2
