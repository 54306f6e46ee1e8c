#define _GNU_SOURCE
#include "cshims_bpf.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf_call(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

int cella_bpf_load_device_prog(const void *insns, uint32_t count, char *log, uint32_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = count;
  attr.license = (uint64_t)(uintptr_t) "Apache";
  if (log != NULL && log_size > 0) {
    log[0] = 0;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = log_size;
    attr.log_level = 1;
  }
  return (int)bpf_call(BPF_PROG_LOAD, &attr);
}

int cella_bpf_attach_device_prog(int cgroup_fd, int prog_fd, uint32_t flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)cgroup_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  return (int)bpf_call(BPF_PROG_ATTACH, &attr);
}

int cella_bpf_detach_device_prog(int cgroup_fd, int prog_fd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)cgroup_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  return (int)bpf_call(BPF_PROG_DETACH, &attr);
}

int cella_bpf_query_device_progs(int cgroup_fd, uint32_t *ids, uint32_t capacity) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (uint32_t)cgroup_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = capacity;
  if (bpf_call(BPF_PROG_QUERY, &attr) < 0) return -1;
  return (int)attr.query.prog_cnt;
}

int cella_bpf_prog_fd_by_id(uint32_t id) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  return (int)bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
}

uint32_t cella_bpf_allow_multi(void) { return BPF_F_ALLOW_MULTI; }

int cella_eventfd(unsigned int initval) { return eventfd(initval, EFD_CLOEXEC); }

int64_t cella_statfs_type(const char *path) {
  struct statfs st;
  if (statfs(path, &st) != 0) return 0;
  return (int64_t)st.f_type;
}
