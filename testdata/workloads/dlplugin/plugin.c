// plugin is dlplugin's plug-in: plugin_run asks the scheduling priority
// of its process (getpriority(2)), which dlplugin's own code never does.
#include <errno.h>
#include <sys/resource.h>

int plugin_run(void) {
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, 0);
	return errno != 0 ? -1 : prio;
}
