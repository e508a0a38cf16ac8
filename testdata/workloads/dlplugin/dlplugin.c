// dlplugin loads a plug-in with dlopen(3) and calls its plugin_run: the
// syscalls the plug-in makes are in no DT_NEEDED library of dlplugin.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	if (argc > 2) {
		fprintf(stderr, "usage: dlplugin [PLUGIN.so]\n");
		return 2;
	}
	if (argc < 2) {
		// The path that loads nothing.
		puts("no plug-in");
		return 0;
	}
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "dlplugin: %s\n", dlerror());
		return 1;
	}
	int (*run)(void) = (int (*)(void))dlsym(h, "plugin_run");
	if (run == NULL) {
		fprintf(stderr, "dlplugin: %s\n", dlerror());
		return 1;
	}
	printf("plugin_run: %d\n", run());
	return 0;
}
