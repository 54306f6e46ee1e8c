// Calls the cgroup code in CellaCgroups needs that Swift's Glibc module does
// not expose: bpf(2) (no glibc wrapper; syscall(2) is variadic), eventfd(2)
// and statfs(2) (their headers are not part of the module).
#ifndef CELLA_CSHIMS_BPF_H
#define CELLA_CSHIMS_BPF_H

#include <stddef.h>
#include <stdint.h>

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program made of `count`
/// 8-byte instructions; the verifier log goes to `log` (may be NULL). Returns the program fd or -1.
int cella_bpf_load_device_prog(const void *insns, uint32_t count, char *log, uint32_t log_size);

/// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) of `prog_fd` to the cgroup2 directory `cgroup_fd` with `flags`.
int cella_bpf_attach_device_prog(int cgroup_fd, int prog_fd, uint32_t flags);

/// bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) of `prog_fd` from `cgroup_fd`.
int cella_bpf_detach_device_prog(int cgroup_fd, int prog_fd);

/// bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE): ids of programs attached to `cgroup_fd`; returns the count or -1.
int cella_bpf_query_device_progs(int cgroup_fd, uint32_t *ids, uint32_t capacity);

/// bpf(BPF_PROG_GET_FD_BY_ID).
int cella_bpf_prog_fd_by_id(uint32_t id);

/// BPF_F_ALLOW_MULTI.
uint32_t cella_bpf_allow_multi(void);

/// eventfd(initval, EFD_CLOEXEC).
int cella_eventfd(unsigned int initval);

/// statfs(2) f_type of `path`, or 0 with errno set.
int64_t cella_statfs_type(const char *path);

#endif
