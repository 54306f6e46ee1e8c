// Calls a VM guest's init makes that Swift's Glibc module does not expose. No policy here.
#ifndef CELLA_CSHIMS_GUEST_H
#define CELLA_CSHIMS_GUEST_H

/// finit_module(2): loads the kernel module in `fd` with `params` ("name=value ..."). Returns 0 or -1 with
/// errno set.
int cella_finit_module(int fd, const char *params, int flags);

/// reboot(2) with LINUX_REBOOT_CMD_POWER_OFF: returns only on failure (-1, errno set).
int cella_power_off(void);

#endif
