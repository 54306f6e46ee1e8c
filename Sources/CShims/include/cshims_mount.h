// The new mount API (Linux 5.2+ / 5.12+), which Swift's Glibc module does not expose. No policy here.
#ifndef CELLA_CSHIMS_MOUNT_H
#define CELLA_CSHIMS_MOUNT_H

#include <stdint.h>

/// mount_setattr(2) with a `struct mount_attr` built from the four fields.
int cella_mount_setattr(
    int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation,
    uint64_t userns_fd);

/// open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount tree at `path`.
int cella_open_tree(int dirfd, const char *path, unsigned int flags);

/// move_mount(2): attaches (or moves) a mount.
int cella_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);

#endif
