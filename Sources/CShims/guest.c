#define _GNU_SOURCE
#include "cshims_guest.h"

#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

int cella_finit_module(int fd, const char *params, int flags) {
  return (int)syscall(SYS_finit_module, fd, params, flags);
}

int cella_power_off(void) { return reboot(RB_POWER_OFF); }
