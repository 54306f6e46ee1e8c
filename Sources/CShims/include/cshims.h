// Thin wrappers for calls that Swift's Glibc module does not expose
// (variadic functions, syscalls without a glibc wrapper). No policy here.
#ifndef CELLA_CSHIMS_H
#define CELLA_CSHIMS_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// Raw clone(2) with fork semantics (no new stack): returns 0 in the child.
pid_t cella_clone(uint64_t flags);

/// openat2(2) with RESOLVE_* flags; returns an fd or -1 with errno set.
int cella_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// pivot_root(2).
int cella_pivot_root(const char *new_root, const char *put_old);

/// close_range(2).
int cella_close_range(unsigned int first, unsigned int last, unsigned int flags);

/// prctl(2) with up to four integer arguments.
int cella_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

/// fcntl(2) with an integer argument.
int cella_fcntl(int fd, int cmd, int arg);

/// ioctl(2) with an integer argument.
int cella_ioctl(int fd, unsigned long request, unsigned long arg);

/// sendmsg with one fd in SCM_RIGHTS (fd < 0 sends none).
ssize_t cella_send_with_fd(int sock, const void *buf, size_t len, int fd);

/// recvmsg that also receives one SCM_RIGHTS fd into *fd_out (-1 if none).
ssize_t cella_recv_with_fd(int sock, void *buf, size_t len, int *fd_out);

/// pidfd_open(2).
int cella_pidfd_open(pid_t pid, unsigned int flags);

/// pidfd_send_signal(2).
int cella_pidfd_send_signal(int pidfd, int sig, unsigned int flags);

/// Signal set helpers (sigset_t macros are not importable).
void cella_sigset_fill(sigset_t *set);
void cella_sigset_empty(sigset_t *set);
void cella_sigset_add(sigset_t *set, int sig);

/// WIFEXITED and friends (macros).
int cella_wifexited(int status);
int cella_wexitstatus(int status);
int cella_wifsignaled(int status);
int cella_wtermsig(int status);

/// makedev(3) (a macro in glibc).
uint64_t cella_makedev(unsigned int major, unsigned int minor);

/// The current errno location value, for call sites that need it unambiguously.
int cella_errno(void);

/// Number of bytes in the sockaddr_un sun_path.
size_t cella_sun_path_size(void);


// GNU extensions that Glibc's module does not import.
int cella_setns(int fd, int nstype);
int cella_unshare(int flags);
int cella_accept4(int fd, int flags);
int cella_pipe2(int fds[2], int flags);
int cella_setresuid(uid_t r, uid_t e, uid_t s);
int cella_setresgid(gid_t r, gid_t e, gid_t s);
int cella_personality(unsigned long persona);

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring for the container.
long cella_join_session_keyring(const char *name);

/// capset(2) with 64-bit sets (_LINUX_CAPABILITY_VERSION_3) for the calling thread.
int cella_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);

/// capget(2) for the calling thread.
int cella_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);

/// statx(2) of `fd` itself for the id of the mount it is on; `mask` is STATX_MNT_ID (0x1000) or
/// STATX_MNT_ID_UNIQUE (0x4000). Returns the part of `mask` the kernel filled in (0 on error, errno set).
unsigned int cella_fd_mount_id(int fd, unsigned int mask, uint64_t *id);

/// Writes "0" to each NUL-separated path of `paths` (total `len` bytes): a process moving itself into
/// cgroups without touching anything else. Returns 0, or the 1-based index of the failing path with
/// errno set.
int cella_write_zero_each(const char *paths, size_t len);

#include "cshims_seccomp.h"
#include "cshims_tty.h"
#include "cshims_bpf.h"
#include "cshims_mount.h"
#include "cshims_spawn.h"
#include "cshims_net.h"
#include "cshims_guest.h"

#endif
