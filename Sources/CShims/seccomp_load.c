#define _GNU_SOURCE
#include "cshims_seccomp.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int cella_seccomp_load(const void *bpf, size_t len, unsigned int flags) {
  size_t count = len / sizeof(struct sock_filter);
  if (count == 0 || len % sizeof(struct sock_filter) != 0 || count > USHRT_MAX) {
    errno = EINVAL;
    return -1;
  }
  struct sock_fprog prog = {.len = (unsigned short)count, .filter = (struct sock_filter *)bpf};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

int cella_seccomp_flags_supported(unsigned int flags) {
  // The kernel checks the flags before it copies the program, so a NULL
  // program separates "unknown flag" (EINVAL) from "known" (EFAULT) without
  // ever installing a filter.
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL);
  if (rc < 0 && errno == EFAULT) return 0;
  if (rc >= 0) {
    errno = EINVAL;
  }
  return -1;
}

int cella_seccomp_action_available(uint32_t action) {
  return (int)syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
}

int cella_seccomp_memfd(void) { return memfd_create("cella-seccomp", MFD_CLOEXEC); }
