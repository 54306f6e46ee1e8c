/// `mount(2)` flag values (linux/mount.h).
public enum MountFlag {
  public static let rdonly: UInt = 1
  public static let nosuid: UInt = 2
  public static let nodev: UInt = 4
  public static let noexec: UInt = 8
  public static let synchronous: UInt = 16
  public static let remount: UInt = 32
  public static let mandlock: UInt = 64
  public static let dirsync: UInt = 128
  public static let nosymfollow: UInt = 256
  public static let noatime: UInt = 1024
  public static let nodiratime: UInt = 2048
  public static let bind: UInt = 4096
  public static let rec: UInt = 16384
  public static let silent: UInt = 32768
  public static let unbindable: UInt = 1 << 17
  public static let `private`: UInt = 1 << 18
  public static let slave: UInt = 1 << 19
  public static let shared: UInt = 1 << 20
  public static let relatime: UInt = 1 << 21
  public static let strictatime: UInt = 1 << 24
  public static let lazytime: UInt = 1 << 25
}

/// `mount_setattr(2)` attribute values (linux/mount.h).
public enum MountAttr {
  public static let rdonly: UInt64 = 0x0000_0001
  public static let nosuid: UInt64 = 0x0000_0002
  public static let nodev: UInt64 = 0x0000_0004
  public static let noexec: UInt64 = 0x0000_0008
  /// The mask covering the three atime modes below.
  public static let atimeMask: UInt64 = 0x0000_0070
  public static let relatime: UInt64 = 0x0000_0000
  public static let noatime: UInt64 = 0x0000_0010
  public static let strictatime: UInt64 = 0x0000_0020
  public static let nodiratime: UInt64 = 0x0000_0080
  public static let idmap: UInt64 = 0x0010_0000
  public static let nosymfollow: UInt64 = 0x0020_0000
}

/// An OCI `mounts[i].options` list split into what mount(2) needs.
public struct MountOptions: Sendable, Equatable {
  /// MS_* flags to set.
  public var flags: UInt = 0
  /// MS_* flags the options explicitly turn off (rw, suid, dev, exec, atime...).
  public var clearFlags: UInt = 0
  /// Propagation flags for a separate mount(2) call (MS_PRIVATE|MS_REC for rprivate...).
  public var propagation: UInt = 0
  /// `bind` or `rbind` was given.
  public var isBind = false
  /// `rbind` was given.
  public var isRecursive = false
  /// Filesystem-specific options for mount(2)'s data argument ("size=65536k", "mode=755").
  public var data: [String] = []
  /// Recursive mount_setattr options as given ("rro", "rnosuid", ...), in order.
  public var recursiveAttrs: [String] = []
  /// MOUNT_ATTR_* bits to set recursively, from `recursiveAttrs`.
  public var recursiveAttrSet: UInt64 = 0
  /// MOUNT_ATTR_* bits to clear recursively, from `recursiveAttrs`.
  public var recursiveAttrClear: UInt64 = 0
  /// `idmap` or `ridmap`: make an idmapped mount from the mount's uid/gid mappings.
  public var isIdmap = false
  /// `ridmap`: idmap the whole bind-mounted tree.
  public var isIdmapRecursive = false
  /// Runtime extensions that are not mount flags ("tmpcopyup", "copy-symlink",
  /// "src-nofollow", "dest-nofollow").
  public var extensions: [String] = []

  public init() {}

  /// `data` joined with commas, as mount(2) takes it.
  public var dataString: String { data.joined(separator: ",") }

  /// True when a read-only option (`ro`) is in effect.
  public var isReadOnly: Bool { flags & MountFlag.rdonly != 0 }

  /// Options that set a flag.
  public static let setOptions: [String: UInt] = [
    "ro": MountFlag.rdonly, "nosuid": MountFlag.nosuid, "nodev": MountFlag.nodev, "noexec": MountFlag.noexec,
    "sync": MountFlag.synchronous, "remount": MountFlag.remount, "mand": MountFlag.mandlock,
    "dirsync": MountFlag.dirsync, "nosymfollow": MountFlag.nosymfollow, "noatime": MountFlag.noatime,
    "nodiratime": MountFlag.nodiratime, "bind": MountFlag.bind, "rbind": MountFlag.bind | MountFlag.rec,
    "relatime": MountFlag.relatime, "strictatime": MountFlag.strictatime, "lazytime": MountFlag.lazytime,
    "silent": MountFlag.silent,
  ]

  /// Options that clear a flag.
  public static let clearOptions: [String: UInt] = [
    "rw": MountFlag.rdonly, "suid": MountFlag.nosuid, "dev": MountFlag.nodev, "exec": MountFlag.noexec,
    "async": MountFlag.synchronous, "nomand": MountFlag.mandlock, "symfollow": MountFlag.nosymfollow,
    "atime": MountFlag.noatime, "diratime": MountFlag.nodiratime, "norelatime": MountFlag.relatime,
    "nostrictatime": MountFlag.strictatime, "nolazytime": MountFlag.lazytime, "loud": MountFlag.silent,
  ]

  /// Propagation options.
  public static let propagationOptions: [String: UInt] = [
    "private": MountFlag.private, "rprivate": MountFlag.private | MountFlag.rec,
    "slave": MountFlag.slave, "rslave": MountFlag.slave | MountFlag.rec,
    "shared": MountFlag.shared, "rshared": MountFlag.shared | MountFlag.rec,
    "unbindable": MountFlag.unbindable, "runbindable": MountFlag.unbindable | MountFlag.rec,
  ]

  /// Recursive attribute options: (bits to set, bits to clear).
  public static let recursiveOptions: [String: (set: UInt64, clear: UInt64)] = [
    "rro": (MountAttr.rdonly, 0), "rrw": (0, MountAttr.rdonly),
    "rnosuid": (MountAttr.nosuid, 0), "rsuid": (0, MountAttr.nosuid),
    "rnodev": (MountAttr.nodev, 0), "rdev": (0, MountAttr.nodev),
    "rnoexec": (MountAttr.noexec, 0), "rexec": (0, MountAttr.noexec),
    "rnodiratime": (MountAttr.nodiratime, 0), "rdiratime": (0, MountAttr.nodiratime),
    "rnosymfollow": (MountAttr.nosymfollow, 0), "rsymfollow": (0, MountAttr.nosymfollow),
    "rrelatime": (MountAttr.relatime, MountAttr.atimeMask),
    "rnoatime": (MountAttr.noatime, MountAttr.atimeMask),
    "rstrictatime": (MountAttr.strictatime, MountAttr.atimeMask),
    // Leaving noatime or strictatime falls back to the kernel default, relatime.
    "ratime": (MountAttr.relatime, MountAttr.atimeMask),
    "rnostrictatime": (MountAttr.relatime, MountAttr.atimeMask),
  ]

  /// Options handled by the runtime itself.
  public static let extensionOptions: Set<String> = ["tmpcopyup", "copy-symlink", "src-nofollow", "dest-nofollow"]

  /// Every option name this parser recognises (for features.json `mountOptions`).
  public static var knownOptions: [String] {
    var names = Set(setOptions.keys).union(clearOptions.keys).union(propagationOptions.keys)
    names.formUnion(recursiveOptions.keys)
    names.formUnion(["defaults", "idmap", "ridmap"])
    names.formUnion(extensionOptions)
    return names.sorted()
  }

  /// Splits options; later options override earlier ones ("ro,rw" is rw).
  public static func parse(_ options: [String]) -> MountOptions {
    var result = MountOptions()
    for option in options {
      if option == "defaults" { continue }
      if let bits = setOptions[option] {
        result.flags |= bits
        result.clearFlags &= ~bits
        if option == "bind" || option == "rbind" {
          result.isBind = true
          if option == "rbind" { result.isRecursive = true }
        }
      } else if let bits = clearOptions[option] {
        result.flags &= ~bits
        result.clearFlags |= bits
      } else if let bits = propagationOptions[option] {
        result.propagation = bits
      } else if let attr = recursiveOptions[option] {
        result.recursiveAttrs.append(option)
        if attr.clear == MountAttr.atimeMask {
          // Changing the atime mode needs the whole mask in attr_clr.
          result.recursiveAttrClear |= MountAttr.atimeMask
          result.recursiveAttrSet = (result.recursiveAttrSet & ~MountAttr.atimeMask) | attr.set
        } else {
          result.recursiveAttrClear = (result.recursiveAttrClear | attr.clear) & ~attr.set
          result.recursiveAttrSet = (result.recursiveAttrSet | attr.set) & ~attr.clear
        }
      } else if option == "idmap" || option == "ridmap" {
        result.isIdmap = true
        if option == "ridmap" { result.isIdmapRecursive = true }
      } else if extensionOptions.contains(option) {
        if !result.extensions.contains(option) { result.extensions.append(option) }
      } else {
        result.data.append(option)
      }
    }
    return result
  }
}
