/// A per-mount attribute an option sets or clears; CellaSys holds its kernel bits (MS_*, MOUNT_ATTR_*).
public enum MountAttribute: Sendable, Hashable, CaseIterable {
  case readOnly, noSuid, noDev, noExec, noDirAtime, noSymFollow
}

/// The kernel's three atime modes; a mount has exactly one.
public enum AtimeMode: Sendable, Hashable, CaseIterable {
  case relatime, noAtime, strictAtime
}

/// A flag of the filesystem (superblock) itself, which only a new mount can set.
public enum FilesystemFlag: Sendable, Hashable, CaseIterable {
  case synchronous, dirSync, lazyTime, iVersion, remount
}

/// Mount propagation, optionally for the whole tree below the mount.
public struct MountPropagation: Sendable, Hashable {
  /// The propagation types of mount(2), named as the option that sets each (the recursive one adds an "r").
  public enum Mode: String, Sendable, Hashable, CaseIterable { case `private`, slave, shared, unbindable }
  public var mode: Mode
  public var recursive: Bool

  public init(_ mode: Mode, recursive: Bool) {
    self.mode = mode
    self.recursive = recursive
  }
}

/// The attributes a mount option list sets and clears, on the mount itself or on its whole tree.
public struct MountAttributeChange: Sendable, Equatable {
  public var set: Set<MountAttribute> = []
  public var clear: Set<MountAttribute> = []
  /// The atime mode chosen; nil leaves the mount's own.
  public var atime: AtimeMode?

  public init() {}

  /// True when nothing is set, cleared, or chosen.
  public var isEmpty: Bool { self.set.isEmpty && clear.isEmpty && atime == nil }

  /// Applies one option: a later option overrides an earlier one for the same attribute.
  mutating func apply(_ attribute: MountAttribute, set on: Bool) {
    if on {
      self.set.insert(attribute)
      clear.remove(attribute)
    } else {
      clear.insert(attribute)
      self.set.remove(attribute)
    }
  }
}

/// What one mount option does: one row of `MountOptions.table`.
public enum MountOptionEffect: Sendable, Equatable {
  /// Nothing to change ("defaults", and "nomand" now that Linux has no mandatory locking).
  case noEffect
  /// `bind` or `rbind`.
  case bind(recursive: Bool)
  /// Sets or clears a per-mount attribute, of the mount itself or (recursive) of every mount below it too.
  case attribute(MountAttribute, set: Bool, recursive: Bool)
  /// Chooses the atime mode, of the mount itself or of its whole tree.
  case atime(AtimeMode, recursive: Bool)
  /// Sets or clears a flag of the filesystem itself; a bind mount cannot change it.
  case filesystemFlag(FilesystemFlag, set: Bool)
  /// MS_SILENT on or off: a flag of the mount(2) call itself (kernel log verbosity), valid for every mount.
  case silent(Bool)
  /// Propagation, for a separate mount(2) call.
  case propagation(MountPropagation)
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
  /// What the options set and clear on the mount itself (ro, nosuid, noatime...).
  public var attributes = MountAttributeChange()
  /// What the options set and clear on the whole tree (rro, rnosuid...).
  public var recursiveAttributes = MountAttributeChange()
  /// Filesystem flags (sync, dirsync, lazytime, iversion, remount) for a new, non-bind mount.
  public var filesystemFlags: Set<FilesystemFlag> = []
  /// `silent`: MS_SILENT on every mount(2) call of this mount.
  public var silent = false
  /// Propagation for a separate mount(2) call (rprivate...), if any.
  public var propagation: MountPropagation?
  /// Filesystem-specific options for mount(2)'s data argument ("size=65536k", "mode=755").
  public var data: [String] = []
  /// Filesystem data given on a bind mount, which has no filesystem to take it: the kernel ignores it
  /// there, so the runtime warns instead of passing it.
  public var ignoredOnBind: [String] = []
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
  public var isReadOnly: Bool { attributes.set.contains(.readOnly) }

  /// The one table of mount options: what the mounter does with each, and what `features` reports.
  ///
  /// atime options choose one of the kernel's three modes; "atime", "nostrictatime" (and their
  /// recursive forms) fall back to the kernel default, relatime, and "norelatime" means strictatime.
  public static let table: [String: MountOptionEffect] = {
    let attributes: [String: (MountAttribute, set: Bool)] = [
      "ro": (.readOnly, true), "rw": (.readOnly, false),
      "nosuid": (.noSuid, true), "suid": (.noSuid, false),
      "nodev": (.noDev, true), "dev": (.noDev, false),
      "noexec": (.noExec, true), "exec": (.noExec, false),
      "nodiratime": (.noDirAtime, true), "diratime": (.noDirAtime, false),
      "nosymfollow": (.noSymFollow, true), "symfollow": (.noSymFollow, false),
    ]
    let atimes: [String: AtimeMode] = [
      "relatime": .relatime, "noatime": .noAtime, "strictatime": .strictAtime, "atime": .relatime,
      "nostrictatime": .relatime, "norelatime": .strictAtime,
    ]
    var table: [String: MountOptionEffect] = [
      "defaults": .noEffect,
      "nomand": .noEffect,
      "mand": .refused("mandatory locking was removed from Linux (5.15); the kernel ignores it"),
      "bind": .bind(recursive: false), "rbind": .bind(recursive: true),
      "sync": .filesystemFlag(.synchronous, set: true), "async": .filesystemFlag(.synchronous, set: false),
      "dirsync": .filesystemFlag(.dirSync, set: true),
      "lazytime": .filesystemFlag(.lazyTime, set: true), "nolazytime": .filesystemFlag(.lazyTime, set: false),
      "iversion": .filesystemFlag(.iVersion, set: true), "noiversion": .filesystemFlag(.iVersion, set: false),
      "remount": .filesystemFlag(.remount, set: true),
      "silent": .silent(true), "loud": .silent(false),
      "idmap": .idmap(recursive: false), "ridmap": .idmap(recursive: true),
      "tmpcopyup": .tmpcopyup,
      "copy-symlink": .refused("crun's copy-symlink extension is not supported by cella"),
      "src-nofollow": .refused("crun's src-nofollow extension is not supported by cella"),
      "dest-nofollow": .refused("crun's dest-nofollow extension is not supported by cella"),
    ]
    for (name, row) in attributes {
      table[name] = .attribute(row.0, set: row.set, recursive: false)
      table["r" + name] = .attribute(row.0, set: row.set, recursive: true)
    }
    for (name, mode) in atimes {
      table[name] = .atime(mode, recursive: false)
      table["r" + name] = .atime(mode, recursive: true)
    }
    for mode in MountPropagation.Mode.allCases {
      table[mode.rawValue] = .propagation(MountPropagation(mode, recursive: false))
      table["r" + mode.rawValue] = .propagation(MountPropagation(mode, recursive: true))
    }
    return table
  }()

  /// The options this runtime applies, sorted (features.json `mountOptions`).
  public static var supportedOptions: [String] {
    table.filter { if case .refused = $0.value { false } else { true } }.keys.sorted()
  }

  /// The propagation a propagation option name ("rprivate") stands for, or nil.
  public static func propagation(named name: String) -> MountPropagation? {
    if case .propagation(let propagation)? = table[name] { return propagation }
    return nil
  }

  /// Parses `options` for a mount of `type`, refusing what the mount could not apply.
  ///
  /// `field` names the list in errors ("config.json: mounts[3].options"). Later options override
  /// earlier ones ("ro,rw" is rw). Unknown options are filesystem data for a new mount; a bind mount
  /// has no filesystem, so there `key=value` data is set aside with a warning and a bare word refused.
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
          // Filesystem data ("mode=755") on a bind is what runc and crun hand to mount(2), which
          // ignores it for a bind: run such a config, and say so. A bare word is more likely a
          // misspelt flag ("nosiud") than data, and ignoring that could weaken the mount: refuse it.
          guard option.contains("=") else {
            throw refuse("is not a mount option cella knows, and a bind mount has no filesystem to pass it to")
          }
          result.ignoredOnBind.append(option)
          continue
        }
        if isCgroup { throw refuse("is not a mount option cella knows; cgroup mounts take no filesystem options") }
        result.data.append(option)
      case .noEffect:
        break
      case .bind(let recursive):
        result.isRecursive = result.isRecursive || recursive
      case .attribute(let attribute, let set, recursive: false):
        result.attributes.apply(attribute, set: set)
      case .attribute(let attribute, let set, recursive: true):
        result.recursiveAttributes.apply(attribute, set: set)
      case .atime(let mode, recursive: false):
        result.attributes.atime = mode
      case .atime(let mode, recursive: true):
        result.recursiveAttributes.atime = mode
      case .filesystemFlag(let flag, let set):
        if result.isBind {
          throw refuse("sets a flag of the whole filesystem, which a bind mount cannot change (the kernel ignores it)")
        }
        if set { result.filesystemFlags.insert(flag) } else { result.filesystemFlags.remove(flag) }
      case .silent(let on):
        result.silent = on
      case .propagation(let propagation):
        result.propagation = propagation
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
}
