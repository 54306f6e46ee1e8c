#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t cella_clone(uint64_t flags) {
  return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
}

int cella_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int cella_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int cella_close_range(unsigned int first, unsigned int last, unsigned int flags) {
  return (int)syscall(SYS_close_range, first, last, flags);
}

int cella_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
  return prctl(option, a2, a3, a4, a5);
}

int cella_fcntl(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }

int cella_ioctl(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }

ssize_t cella_send_with_fd(int sock, const void *buf, size_t len, int fd) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  if (fd >= 0) {
    memset(&u, 0, sizeof(u));
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t cella_recv_with_fd(int sock, void *buf, size_t len, int *fd_out) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof(u));
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof(u.buf);
  *fd_out = -1;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd_out, CMSG_DATA(c), sizeof(int));
  }
  return n;
}

int cella_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

int cella_pidfd_send_signal(int pidfd, int sig, unsigned int flags) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, flags);
}

void cella_sigset_fill(sigset_t *set) { sigfillset(set); }
void cella_sigset_empty(sigset_t *set) { sigemptyset(set); }
void cella_sigset_add(sigset_t *set, int sig) { sigaddset(set, sig); }

int cella_wifexited(int status) { return WIFEXITED(status); }
int cella_wexitstatus(int status) { return WEXITSTATUS(status); }
int cella_wifsignaled(int status) { return WIFSIGNALED(status); }
int cella_wtermsig(int status) { return WTERMSIG(status); }

uint64_t cella_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

int cella_errno(void) { return errno; }

size_t cella_sun_path_size(void) { return sizeof(((struct sockaddr_un *)0)->sun_path); }

int cella_setns(int fd, int nstype) { return setns(fd, nstype); }
int cella_unshare(int flags) { return unshare(flags); }
int cella_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
int cella_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int cella_setresuid(uid_t r, uid_t e, uid_t s) { return setresuid(r, e, s); }
int cella_setresgid(gid_t r, gid_t e, gid_t s) { return setresgid(r, e, s); }
int cella_personality(unsigned long persona) { return personality(persona); }

long cella_join_session_keyring(const char *name) { return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name); }

int cella_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)effective;
  data[1].effective = (uint32_t)(effective >> 32);
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)inheritable;
  data[1].inheritable = (uint32_t)(inheritable >> 32);
  return (int)syscall(SYS_capset, &header, data);
}

int cella_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  int rc = (int)syscall(SYS_capget, &header, data);
  if (rc != 0) return rc;
  *effective = ((uint64_t)data[1].effective << 32) | data[0].effective;
  *permitted = ((uint64_t)data[1].permitted << 32) | data[0].permitted;
  *inheritable = ((uint64_t)data[1].inheritable << 32) | data[0].inheritable;
  return 0;
}

int cella_write_zero_each(const char *paths, size_t len) {
  size_t off = 0;
  int index = 0;
  while (off < len) {
    const char *path = paths + off;
    size_t n = strlen(path);
    index++;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return index;
    ssize_t w = write(fd, "0", 1);
    int e = errno;
    close(fd);
    if (w != 1) {
      errno = e;
      return index;
    }
    off += n + 1;
  }
  return 0;
}

unsigned int cella_fd_mount_id(int fd, unsigned int mask, uint64_t *id) {
  struct statx stx;
  memset(&stx, 0, sizeof(stx));
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, mask, &stx) != 0) return 0;
  *id = stx.stx_mnt_id;
  return stx.stx_mask & mask;
}
