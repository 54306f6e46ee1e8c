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
  public static let iversion: UInt = 1 << 23
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

/// What one mount option does: one row of `MountOptions.table`.
public enum MountOptionEffect: Sendable, Equatable {
  /// Nothing to change ("defaults", and "nomand" now that Linux has no mandatory locking).
  case noEffect
  /// `bind` or `rbind`.
  case bind(recursive: Bool)
  /// A per-mount attribute of the mount itself, as mount_setattr(2) bits to set and clear.
  case attr(set: UInt64, clear: UInt64)
  /// The same, applied to the mount and every mount below it (mount_setattr with AT_RECURSIVE).
  case recursiveAttr(set: UInt64, clear: UInt64)
  /// A flag of the filesystem itself (mount(2) flags to set and clear); a bind mount cannot change it.
  case filesystemFlag(set: UInt, clear: UInt)
  /// A flag of the mount(2) call itself (kernel log verbosity), valid for every mount.
  case callFlag(set: UInt, clear: UInt)
  /// Propagation, for a separate mount(2) call.
  case propagation(UInt)
  /// An idmapped bind mount (mount_setattr MOUNT_ATTR_IDMAP).
  case idmap(recursive: Bool)
  /// crun's extension: copy what the rootfs has at the destination into the new tmpfs.
  case tmpcopyup
  /// Recognised but not implemented: refused with this reason.
  case refused(String)
}

/// An OCI `mounts[i].options` list, checked against the mount's kind and split into what the mounter applies.
public struct MountOptions: Sendable, Equatable {
  /// `bind` or `rbind` was given, or the type is "bind".
  public var isBind = false
  /// `rbind` was given.
  public var isRecursive = false
  /// mount_setattr bits to set on the mount itself (ro, nosuid, noatime...).
  public var attrSet: UInt64 = 0
  /// mount_setattr bits to clear on the mount itself (rw, suid, atime modes...).
  public var attrClear: UInt64 = 0
  /// mount_setattr bits to set on the whole tree (rro, rnosuid...).
  public var recursiveAttrSet: UInt64 = 0
  /// mount_setattr bits to clear on the whole tree (rrw, rsuid, atime modes...).
  public var recursiveAttrClear: UInt64 = 0
  /// Filesystem flags (sync, dirsync, lazytime, iversion, remount) for a new, non-bind mount.
  public var filesystemFlags: UInt = 0
  /// MS_SILENT, for every mount(2) call of this mount.
  public var callFlags: UInt = 0
  /// Propagation flags for a separate mount(2) call (MS_PRIVATE|MS_REC for rprivate...).
  public var propagation: UInt = 0
  /// Filesystem-specific options for mount(2)'s data argument ("size=65536k", "mode=755").
  public var data: [String] = []
  /// `idmap` or `ridmap`: make an idmapped mount.
  public var isIdmap = false
  /// `ridmap`: idmap every mount of the bound tree, not only its top.
  public var isIdmapRecursive = false
  /// `tmpcopyup`: copy the rootfs's contents at the destination into the new tmpfs.
  public var tmpcopyup = false

  public init() {}

  /// `data` joined with commas, as mount(2) takes it.
  public var dataString: String { data.joined(separator: ",") }

  /// True when the mount itself is read-only (`ro`).
  public var isReadOnly: Bool { attrSet & MountAttr.rdonly != 0 }

  /// The mount(2) flags that give a new (non-bind) mount its per-mount attributes and filesystem flags.
  public var flags: UInt {
    var flags = filesystemFlags | callFlags
    let pairs: [(UInt64, UInt)] = [
      (MountAttr.rdonly, MountFlag.rdonly), (MountAttr.nosuid, MountFlag.nosuid), (MountAttr.nodev, MountFlag.nodev),
      (MountAttr.noexec, MountFlag.noexec), (MountAttr.nodiratime, MountFlag.nodiratime),
      (MountAttr.nosymfollow, MountFlag.nosymfollow),
    ]
    for (attr, flag) in pairs where attrSet & attr != 0 { flags |= flag }
    if attrClear & MountAttr.atimeMask != 0 {
      switch attrSet & MountAttr.atimeMask {
      case MountAttr.noatime: flags |= MountFlag.noatime
      case MountAttr.strictatime: flags |= MountFlag.strictatime
      default: flags |= MountFlag.relatime
      }
    }
    return flags
  }

  /// The one table of mount options: what the mounter does with each, and what `features` reports.
  ///
  /// atime options choose one of the kernel's three modes; "atime", "nostrictatime" (and their
  /// recursive forms) fall back to the kernel default, relatime, and "norelatime" means strictatime.
  public static let table: [String: MountOptionEffect] = {
    let atime = MountAttr.atimeMask
    let perMount: [String: (set: UInt64, clear: UInt64)] = [
      "ro": (MountAttr.rdonly, 0), "rw": (0, MountAttr.rdonly),
      "nosuid": (MountAttr.nosuid, 0), "suid": (0, MountAttr.nosuid),
      "nodev": (MountAttr.nodev, 0), "dev": (0, MountAttr.nodev),
      "noexec": (MountAttr.noexec, 0), "exec": (0, MountAttr.noexec),
      "nodiratime": (MountAttr.nodiratime, 0), "diratime": (0, MountAttr.nodiratime),
      "nosymfollow": (MountAttr.nosymfollow, 0), "symfollow": (0, MountAttr.nosymfollow),
      "relatime": (MountAttr.relatime, atime), "noatime": (MountAttr.noatime, atime),
      "strictatime": (MountAttr.strictatime, atime), "atime": (MountAttr.relatime, atime),
      "nostrictatime": (MountAttr.relatime, atime), "norelatime": (MountAttr.strictatime, atime),
    ]
    var table: [String: MountOptionEffect] = [
      "defaults": .noEffect,
      "nomand": .noEffect,
      "mand": .refused("mandatory locking was removed from Linux (5.15); the kernel ignores it"),
      "bind": .bind(recursive: false), "rbind": .bind(recursive: true),
      "sync": .filesystemFlag(set: MountFlag.synchronous, clear: 0),
      "async": .filesystemFlag(set: 0, clear: MountFlag.synchronous),
      "dirsync": .filesystemFlag(set: MountFlag.dirsync, clear: 0),
      "lazytime": .filesystemFlag(set: MountFlag.lazytime, clear: 0),
      "nolazytime": .filesystemFlag(set: 0, clear: MountFlag.lazytime),
      "iversion": .filesystemFlag(set: MountFlag.iversion, clear: 0),
      "noiversion": .filesystemFlag(set: 0, clear: MountFlag.iversion),
      "remount": .filesystemFlag(set: MountFlag.remount, clear: 0),
      "silent": .callFlag(set: MountFlag.silent, clear: 0),
      "loud": .callFlag(set: 0, clear: MountFlag.silent),
      "private": .propagation(MountFlag.private), "rprivate": .propagation(MountFlag.private | MountFlag.rec),
      "slave": .propagation(MountFlag.slave), "rslave": .propagation(MountFlag.slave | MountFlag.rec),
      "shared": .propagation(MountFlag.shared), "rshared": .propagation(MountFlag.shared | MountFlag.rec),
      "unbindable": .propagation(MountFlag.unbindable),
      "runbindable": .propagation(MountFlag.unbindable | MountFlag.rec),
      "idmap": .idmap(recursive: false), "ridmap": .idmap(recursive: true),
      "tmpcopyup": .tmpcopyup,
      "copy-symlink": .refused("crun's copy-symlink extension is not supported by cella"),
      "src-nofollow": .refused("crun's src-nofollow extension is not supported by cella"),
      "dest-nofollow": .refused("crun's dest-nofollow extension is not supported by cella"),
    ]
    for (name, bits) in perMount {
      table[name] = .attr(set: bits.set, clear: bits.clear)
      table["r" + name] = .recursiveAttr(set: bits.set, clear: bits.clear)
    }
    return table
  }()

  /// The options this runtime applies, sorted (features.json `mountOptions`).
  public static var supportedOptions: [String] {
    table.filter { if case .refused = $0.value { false } else { true } }.keys.sorted()
  }

  /// Propagation flags for a propagation option name ("rprivate"), or nil.
  public static func propagation(named name: String) -> UInt? {
    if case .propagation(let bits)? = table[name] { return bits }
    return nil
  }

  /// Parses `options` for a mount of `type`, refusing what the mount could not apply.
  ///
  /// `field` names the list in errors ("config.json: mounts[3].options"). Later options override
  /// earlier ones ("ro,rw" is rw). Unknown options are filesystem data for a new mount; a bind mount
  /// passes no data, so there they are refused.
  public static func parse(_ options: [String], type: String?, field: String) throws(OCIError) -> MountOptions {
    var result = MountOptions()
    result.isBind = type == "bind" || options.contains("bind") || options.contains("rbind")
    let isCgroup = !result.isBind && (type == "cgroup" || type == "cgroup2")
    for (j, option) in options.enumerated() {
      func refuse(_ reason: String) -> OCIError {
        OCIError("\(field)[\(j)]: \(jsonQuote(option)) \(reason)")
      }
      switch table[option] {
      case nil:
        if result.isBind {
          throw refuse("is not a mount option cella knows, and a bind mount has no filesystem to pass it to")
        }
        if isCgroup { throw refuse("is not a mount option cella knows; cgroup mounts take no filesystem options") }
        result.data.append(option)
      case .noEffect:
        break
      case .bind(let recursive):
        result.isRecursive = result.isRecursive || recursive
      case .attr(let set, let clear):
        merge(&result.attrSet, &result.attrClear, set, clear)
      case .recursiveAttr(let set, let clear):
        merge(&result.recursiveAttrSet, &result.recursiveAttrClear, set, clear)
      case .filesystemFlag(let set, let clear):
        if result.isBind {
          throw refuse("sets a flag of the whole filesystem, which a bind mount cannot change (the kernel ignores it)")
        }
        result.filesystemFlags = (result.filesystemFlags | set) & ~clear
      case .callFlag(let set, let clear):
        result.callFlags = (result.callFlags | set) & ~clear
      case .propagation(let bits):
        result.propagation = bits
      case .idmap(let recursive):
        if !result.isBind { throw refuse("needs a bind mount (cella idmaps bind mounts only)") }
        result.isIdmap = true
        result.isIdmapRecursive = result.isIdmapRecursive || recursive
      case .tmpcopyup:
        if type != "tmpfs" { throw refuse("applies to tmpfs mounts only, not \(jsonQuote(type ?? ""))") }
        result.tmpcopyup = true
      case .refused(let reason):
        throw refuse("is refused: \(reason)")
      }
    }
    return result
  }

  /// Folds one option's set/clear bits into the running state; an atime mode replaces the previous one.
  private static func merge(_ set: inout UInt64, _ clear: inout UInt64, _ newSet: UInt64, _ newClear: UInt64) {
    if newClear == MountAttr.atimeMask {
      // mount_setattr(2) changes the atime mode only with the whole mask in attr_clr.
      set = (set & ~MountAttr.atimeMask) | newSet
      clear |= MountAttr.atimeMask
    } else {
      set = (set | newSet) & ~newClear
      clear = (clear | newClear) & ~newSet
    }
  }
}
