// Network calls that Swift's Glibc module cannot make: the tun ioctls (struct ifreq is a union) and a
// socket made in another network namespace. No policy here.
#ifndef CELLA_CSHIMS_NET_H
#define CELLA_CSHIMS_NET_H

/// TUNSETIFF on an open /dev/net/tun fd: attaches it to device `name` ("" lets the kernel pick) with
/// IFF_* `flags`; the kernel's name goes to `name_out` (16 bytes). Returns 0 or -1 with errno set.
int cella_tun_set_iff(int fd, const char *name, int flags, char *name_out);

/// TUNSETPERSIST: whether the device outlives its last fd. Returns 0 or -1 with errno set.
int cella_tun_set_persist(int fd, int persist);

/// socket(2) created inside the network namespace `netns_fd` (an nsfs or pidfd), made on a short-lived
/// thread of its own that setns(2)'s and exits, so no other thread's namespace ever changes. A socket
/// keeps the namespace it was made in. Returns the fd or -1 with errno set.
int cella_socket_in_netns(int netns_fd, int domain, int type, int protocol);

#endif
