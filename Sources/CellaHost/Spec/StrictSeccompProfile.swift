// Generated from Profiles/seccomp/strict.json by Scripts/embed-profiles.sh; a test keeps them equal.

/// The shipped strict seccomp profile (Profiles/seccomp/strict.json), embedded for guests with `security.profile: strict`.
public enum StrictSeccompProfile {
  /// The profile's JSON text.
  public static let json = #"""
    {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": [
        "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"
      ],
      "syscalls": [
        {
          "names": [
            "_llseek", "arm_fadvise64_64", "close", "close_range", "copy_file_range", "creat", "dup",
            "dup2", "dup3", "fadvise64", "fadvise64_64", "fallocate", "fcntl", "fcntl64", "fdatasync",
            "flock", "fsync", "ftruncate", "ftruncate64", "ioctl", "lseek", "open", "openat", "openat2",
            "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
            "readv", "sendfile", "sendfile64", "splice", "tee", "truncate", "truncate64", "vmsplice",
            "write", "writev"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "access", "chdir", "faccessat", "faccessat2", "fchdir", "fgetxattr", "flistxattr", "fstat",
            "fstat64", "fstatat64", "fstatfs", "fstatfs64", "getcwd", "getdents", "getdents64",
            "getxattr", "lgetxattr", "listxattr", "llistxattr", "lstat", "lstat64", "newfstatat",
            "readlink", "readlinkat", "stat", "stat64", "statfs", "statfs64", "statx", "umask"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "futimesat", "link", "linkat", "mkdir", "mkdirat", "rename", "renameat", "renameat2",
            "rmdir", "symlink", "symlinkat", "unlink", "unlinkat", "utime", "utimensat",
            "utimensat_time64", "utimes"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "chmod", "fchmod", "fchmodat", "fchmodat2"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "fdatasync", "fsync", "sync_file_range"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "brk", "madvise", "membarrier", "memfd_create", "mincore", "mmap", "mmap2", "mprotect",
            "mremap", "msync", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "arch_prctl", "breakpoint", "cacheflush", "execve", "exit", "exit_group", "fork",
            "get_robust_list", "get_thread_area", "prctl", "restart_syscall", "rseq", "set_robust_list",
            "set_thread_area", "set_tid_address", "set_tls", "vfork", "wait4", "waitid", "waitpid"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "capget", "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
            "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
            "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid",
            "gettid", "getuid", "getuid32", "ioprio_get", "prlimit64", "sysinfo", "times", "ugetrlimit",
            "uname"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getparam",
            "sched_getscheduler", "sched_yield", "setpgid", "setrlimit", "setsid"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "capset", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
            "setgroups", "setgroups32", "setregid", "setregid32", "setresgid", "setresgid32",
            "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "alarm", "kill", "pause", "pidfd_open", "pidfd_send_signal", "rt_sigaction",
            "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
            "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaction",
            "sigaltstack", "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn",
            "sigsuspend", "tgkill", "tkill"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
            "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep",
            "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
            "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
            "timerfd_gettime64", "timerfd_settime", "timerfd_settime64"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "_newselect", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2",
            "epoll_wait", "eventfd", "eventfd2", "futex", "futex_requeue", "futex_time64", "futex_wait",
            "futex_waitv", "futex_wake", "getrandom", "pipe", "pipe2", "poll", "ppoll", "ppoll_time64",
            "pselect6", "pselect6_time64", "select"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
            "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg",
            "sendmsg", "sendto", "setsockopt", "shutdown", "socket", "socketcall", "socketpair"
          ],
          "action": "SCMP_ACT_ALLOW"
        },
        {
          "names": [
            "clone"
          ],
          "action": "SCMP_ACT_ALLOW",
          "args": [
            {
              "index": 0,
              "value": 2114060288,
              "valueTwo": 0,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "clone3"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 38
        }
      ]
    }
    """#
}
