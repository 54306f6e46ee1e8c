#define _GNU_SOURCE
#include "cshims_mount.h"

#include <linux/mount.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int cella_mount_setattr(
    int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation,
    uint64_t userns_fd) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  attr.propagation = propagation;
  attr.userns_fd = userns_fd;
  return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

int cella_open_tree(int dirfd, const char *path, unsigned int flags) {
  return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

int cella_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags) {
  return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}
