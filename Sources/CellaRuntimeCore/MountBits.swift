import CellaOCI
import CellaSys

// The one mapping from CellaOCI's named mount effects to the kernel's bits (whose values are in
// CellaSys's Constants). CellaOCI keeps the option table as data; it cannot see CellaSys, and
// CellaSys knows nothing of specs, so the mapping lives here, beside the mounter that uses it.

extension MountAttribute {
  /// The MS_* flag that gives a new mount this attribute.
  package var mountFlag: UInt {
    switch self {
    case .readOnly: MS.readOnly
    case .noSuid: MS.noSuid
    case .noDev: MS.noDev
    case .noExec: MS.noExec
    case .noDirAtime: MS.noDirAtime
    case .noSymFollow: MS.noSymFollow
    }
  }

  /// The MOUNT_ATTR_* bit that sets it with mount_setattr(2).
  package var attrBit: UInt64 {
    switch self {
    case .readOnly: MountAttr.readOnly
    case .noSuid: MountAttr.noSuid
    case .noDev: MountAttr.noDev
    case .noExec: MountAttr.noExec
    case .noDirAtime: MountAttr.noDirAtime
    case .noSymFollow: MountAttr.noSymFollow
    }
  }
}

extension AtimeMode {
  /// The MS_* flag for a new mount.
  package var mountFlag: UInt {
    switch self {
    case .relatime: MS.relatime
    case .noAtime: MS.noAtime
    case .strictAtime: MS.strictAtime
    }
  }

  /// The MOUNT_ATTR_* value within `MountAttr.atimeMask`.
  package var attrBits: UInt64 {
    switch self {
    case .relatime: MountAttr.relatime
    case .noAtime: MountAttr.noAtime
    case .strictAtime: MountAttr.strictAtime
    }
  }
}

extension FilesystemFlag {
  /// The MS_* flag.
  package var mountFlag: UInt {
    switch self {
    case .synchronous: MS.synchronous
    case .dirSync: MS.dirSync
    case .lazyTime: MS.lazyTime
    case .iVersion: MS.iVersion
    case .remount: MS.remount
    }
  }
}

extension MountPropagation {
  /// The flags of the mount(2) call that sets it.
  package var mountFlags: UInt {
    let mode: UInt =
      switch self.mode {
      case .private: MS.private
      case .slave: MS.slave
      case .shared: MS.shared
      case .unbindable: MS.unbindable
      }
    return mode | (recursive ? MS.rec : 0)
  }
}

extension MountAttributeChange {
  /// mount_setattr's attr_set.
  package var attrSet: UInt64 { self.set.reduce(atime?.attrBits ?? 0) { $0 | $1.attrBit } }

  /// mount_setattr's attr_clr: an atime mode changes only with the whole mask cleared.
  package var attrClear: UInt64 { clear.reduce(atime == nil ? 0 : MountAttr.atimeMask) { $0 | $1.attrBit } }
}

extension MountOptions {
  /// The mount(2) flags that give a new (non-bind) mount its attributes and filesystem flags.
  package var flags: UInt {
    var flags = filesystemFlags.reduce(silent ? MS.silent : 0) { $0 | $1.mountFlag }
    for attribute in attributes.set { flags |= attribute.mountFlag }
    if let atime = attributes.atime { flags |= atime.mountFlag }
    return flags
  }
}
