// seccomp(2) entry points for the seccomp code in CellaSecurity. glibc has no
// seccomp() wrapper and syscall(2) is variadic, so Swift cannot reach it.
#ifndef CELLA_CSHIMS_SECCOMP_H
#define CELLA_CSHIMS_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) with prog built from `len`
/// bytes of struct sock_filter; returns the listener fd (NEW_LISTENER), 0, or -1.
int cella_seccomp_load(const void *bpf, size_t len, unsigned int flags);

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, NULL): 0 when the kernel accepts
/// `flags` (it then fails on the NULL program with EFAULT), else -1 with errno.
int cella_seccomp_flags_supported(unsigned int flags);

/// seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action): 0 when the kernel knows it.
int cella_seccomp_action_available(uint32_t action);

/// memfd_create("cella-seccomp", MFD_CLOEXEC): scratch space for libseccomp's exports.
int cella_seccomp_memfd(void);

#endif
