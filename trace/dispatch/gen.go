package dispatch

//go:generate go tool bpf2go -tags linux -target amd64 -go-package dispatch dispatch ../bpf/dispatch.c -- -I/usr/include/x86_64-linux-gnu -Wall -Werror -O2
//go:generate go tool bpf2go -tags linux -target amd64 -go-package dispatch percpu ../bpf/percpu.c -- -I/usr/include/x86_64-linux-gnu -Wall -Werror -O2
