import Glibc

// Linux constants that Glibc's module hides behind _GNU_SOURCE or does not import.

/// open(2) O_PATH.
public let O_PATH: Int32 = 0o10000000
/// close_range(2) CLOSE_RANGE_CLOEXEC.
public let CLOSE_RANGE_CLOEXEC: UInt32 = 1 << 2

/// mount(2) flags (MS_*, linux/mount.h): the one copy of their values.
public enum MS {
  public static let readOnly: UInt = 1
  public static let noSuid: UInt = 2
  public static let noDev: UInt = 4
  public static let noExec: UInt = 8
  public static let synchronous: UInt = 16
  public static let remount: UInt = 32
  public static let dirSync: UInt = 128
  public static let noSymFollow: UInt = 256
  public static let noAtime: UInt = 1024
  public static let noDirAtime: UInt = 2048
  public static let bind: UInt = 4096
  public static let move: UInt = 8192
  public static let rec: UInt = 16384
  public static let silent: UInt = 32768
  public static let unbindable: UInt = 1 << 17
  public static let `private`: UInt = 1 << 18
  public static let slave: UInt = 1 << 19
  public static let shared: UInt = 1 << 20
  public static let relatime: UInt = 1 << 21
  public static let iVersion: UInt = 1 << 23
  public static let strictAtime: UInt = 1 << 24
  public static let lazyTime: UInt = 1 << 25
  /// Flags a bind remount must carry over from the existing mount ("locked" in a user namespace).
  public static let lockable: UInt = readOnly | noSuid | noDev | noExec | noAtime | noDirAtime | relatime
}

/// mount_setattr(2) attributes (MOUNT_ATTR_*, linux/mount.h).
public enum MountAttr {
  public static let readOnly: UInt64 = 0x0000_0001
  public static let noSuid: UInt64 = 0x0000_0002
  public static let noDev: UInt64 = 0x0000_0004
  public static let noExec: UInt64 = 0x0000_0008
  /// The mask covering the three atime modes below; mount_setattr changes the mode only with all of it in attr_clr.
  public static let atimeMask: UInt64 = 0x0000_0070
  public static let relatime: UInt64 = 0x0000_0000
  public static let noAtime: UInt64 = 0x0000_0010
  public static let strictAtime: UInt64 = 0x0000_0020
  public static let noDirAtime: UInt64 = 0x0000_0080
  public static let idmap: UInt64 = 0x0010_0000
  public static let noSymFollow: UInt64 = 0x0020_0000
}

/// prctl(2) options.
public enum Prctl {
  public static let setPdeathsig: Int32 = 1
  public static let setDumpable: Int32 = 4
  public static let setKeepCaps: Int32 = 8
  public static let setChildSubreaper: Int32 = 36
  public static let setNoNewPrivs: Int32 = 38
}

/// statvfs f_flag bits (ST_*), which mirror the MS_* flags for these.
public enum StatvfsFlag {
  public static let readOnly: UInt = 1
  public static let noSuid: UInt = 2
  public static let noDev: UInt = 4
  public static let noExec: UInt = 8
  public static let noAtime: UInt = 1024
  public static let noDirAtime: UInt = 2048
  public static let relatime: UInt = 4096
}
