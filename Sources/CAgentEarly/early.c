// A static Swift executable's runtime finds its own path with dladdr(3) in a static initializer (for the
// backtracer), which needs /proc; as a VM's init the agent starts before anything is mounted, and the runtime
// aborts. This constructor runs before the runtime's (priority 101 sorts first in .init_array) and mounts
// /proc when the process is PID 1 and /proc is empty.
#include "cagent_early.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int mounted_proc;

__attribute__((constructor(101))) static void cella_agent_early(void) {
  if (getpid() != 1 || access("/proc/self/exe", F_OK) == 0) return;
  mkdir("/proc", 0555);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0) == 0) mounted_proc = 1;
}

int cella_agent_mounted_proc(void) { return mounted_proc; }
