#define _GNU_SOURCE
#include "cshims_net.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int cella_tun_set_iff(int fd, const char *name, int flags, char *name_out) {
  struct ifreq request;
  memset(&request, 0, sizeof(request));
  if (strlen(name) >= IFNAMSIZ) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  request.ifr_flags = (short)flags;
  if (ioctl(fd, TUNSETIFF, &request) != 0) return -1;
  memcpy(name_out, request.ifr_name, IFNAMSIZ);
  name_out[IFNAMSIZ - 1] = 0;
  return 0;
}

int cella_tun_set_persist(int fd, int persist) { return ioctl(fd, TUNSETPERSIST, (unsigned long)persist); }

struct netns_socket {
  int netns_fd, domain, type, protocol;
  int fd, error;
};

static void *netns_socket_thread(void *arg) {
  struct netns_socket *s = arg;
  if (setns(s->netns_fd, CLONE_NEWNET) != 0) {
    s->error = errno;
    return NULL;
  }
  s->fd = socket(s->domain, s->type, s->protocol);
  if (s->fd < 0) s->error = errno;
  return NULL;
}

int cella_socket_in_netns(int netns_fd, int domain, int type, int protocol) {
  struct netns_socket s = {netns_fd, domain, type, protocol, -1, 0};
  pthread_t thread;
  int e = pthread_create(&thread, NULL, netns_socket_thread, &s);
  if (e != 0) {
    errno = e;
    return -1;
  }
  pthread_join(thread, NULL);
  if (s.fd < 0) errno = s.error;
  return s.fd;
}
