import CellaOCI
import XCTest

final class MountOptionsTests: XCTestCase {
  func parse(_ options: [String], type: String? = "tmpfs") throws -> MountOptions {
    try MountOptions.parse(options, type: type, field: "config.json: mounts[3].options")
  }

  /// The error message of parsing `options`, or "" when they parse.
  func refusal(_ options: [String], type: String? = "tmpfs") -> String {
    do {
      _ = try MountOptions.parse(options, type: type, field: "config.json: mounts[3].options")
      return ""
    } catch { return error.message }
  }

  func testFlagsPropagationBindAndDataAreSplit() throws {
    let options = try parse(["ro", "nosuid", "rprivate", "size=65536k", "mode=755"])
    XCTAssertEqual(options.flags, MountFlag.rdonly | MountFlag.nosuid)
    XCTAssertEqual(options.propagation, MountFlag.private | MountFlag.rec)
    XCTAssertFalse(options.isBind)
    XCTAssertEqual(options.data, ["size=65536k", "mode=755"])
    XCTAssertEqual(options.dataString, "size=65536k,mode=755")
    XCTAssertTrue(options.isReadOnly)
    let bind = try parse(["rbind", "ro"], type: "none")
    XCTAssertTrue(bind.isBind)
    XCTAssertTrue(bind.isRecursive)
    XCTAssertEqual(bind.attrSet, MountAttr.rdonly)
  }

  func testFlagValuesMatchTheKernel() throws {
    XCTAssertEqual(try parse(["nodev"]).flags, 4)
    XCTAssertEqual(try parse(["noexec"]).flags, 8)
    XCTAssertEqual(try parse(["sync"]).flags, 16)
    XCTAssertEqual(try parse(["remount"]).flags, 32)
    XCTAssertEqual(try parse(["dirsync"]).flags, 128)
    XCTAssertEqual(try parse(["nosymfollow"]).flags, 256)
    XCTAssertEqual(try parse(["noatime"]).flags, 1024)
    XCTAssertEqual(try parse(["nodiratime"]).flags, 2048)
    XCTAssertEqual(try parse(["silent"]).flags, 32768)
    XCTAssertEqual(try parse(["relatime"]).flags, 1 << 21)
    XCTAssertEqual(try parse(["iversion"]).flags, 1 << 23)
    XCTAssertEqual(try parse(["strictatime"]).flags, 1 << 24)
    XCTAssertEqual(try parse(["lazytime"]).flags, 1 << 25)
    XCTAssertEqual(try parse(["shared"]).propagation, 1 << 20)
    XCTAssertEqual(try parse(["rslave"]).propagation, (1 << 19) | 16384)
    XCTAssertEqual(try parse(["unbindable"]).propagation, 1 << 17)
  }

  func testPlainBindIsNotRecursive() throws {
    let options = try parse(["bind"], type: nil)
    XCTAssertTrue(options.isBind)
    XCTAssertFalse(options.isRecursive)
  }

  func testClearingOptionsAreRecordedAndLaterOptionsWin() throws {
    let options = try parse(["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "nodiratime", "diratime"])
    XCTAssertEqual(options.flags, 0)
    XCTAssertEqual(options.attrSet, 0)
    XCTAssertEqual(
      options.attrClear, MountAttr.rdonly | MountAttr.nosuid | MountAttr.nodev | MountAttr.noexec | MountAttr.nodiratime
    )
    let back = try parse(["rw", "ro"])
    XCTAssertEqual(back.flags, MountFlag.rdonly)
    XCTAssertEqual(back.attrClear, 0)
    XCTAssertEqual(try parse(["sync", "async"]).flags, 0)
  }

  func testAtimeOptionsChooseOneModeAndTheLastWins() throws {
    let modes: [(String, UInt64, UInt)] = [
      ("relatime", MountAttr.relatime, MountFlag.relatime), ("noatime", MountAttr.noatime, MountFlag.noatime),
      ("strictatime", MountAttr.strictatime, MountFlag.strictatime),
      ("norelatime", MountAttr.strictatime, MountFlag.strictatime), ("atime", MountAttr.relatime, MountFlag.relatime),
      ("nostrictatime", MountAttr.relatime, MountFlag.relatime),
    ]
    for (name, attr, flag) in modes {
      let options = try parse(["noatime", name])
      XCTAssertEqual(options.attrSet, attr, name)
      XCTAssertEqual(options.attrClear, MountAttr.atimeMask, name)
      XCTAssertEqual(options.flags, flag, name)
      let recursive = try parse(["rnoatime", "r" + name])
      XCTAssertEqual(recursive.recursiveAttrSet, attr, "r" + name)
      XCTAssertEqual(recursive.recursiveAttrClear, MountAttr.atimeMask, "r" + name)
    }
  }

  func testRecursiveAttributesAreRecordedApartFromTheMountsOwn() throws {
    let options = try parse(["rbind", "rro", "rnosuid", "rnoatime", "rnodev", "rnoexec", "rnosymfollow"], type: "bind")
    XCTAssertEqual(
      options.recursiveAttrSet,
      MountAttr.rdonly | MountAttr.nosuid | MountAttr.noatime | MountAttr.nodev | MountAttr.noexec
        | MountAttr.nosymfollow)
    XCTAssertEqual(options.recursiveAttrClear, MountAttr.atimeMask)
    XCTAssertEqual(options.attrSet, 0, "rro must not become a plain ro")
    let cleared = try parse(["rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"])
    XCTAssertEqual(cleared.recursiveAttrSet, 0)
    XCTAssertEqual(
      cleared.recursiveAttrClear,
      MountAttr.rdonly | MountAttr.nosuid | MountAttr.nodev | MountAttr.noexec | MountAttr.nodiratime
        | MountAttr.nosymfollow)
  }

  func testIdmapAndTmpcopyupAreRecordedNotPassedToTheFilesystem() throws {
    let bind = try parse(["rbind", "ridmap"], type: "bind")
    XCTAssertTrue(bind.isIdmap)
    XCTAssertTrue(bind.isIdmapRecursive)
    XCTAssertEqual(bind.data, [])
    let tmpfs = try parse(["defaults", "tmpcopyup", "uid=1000"])
    XCTAssertTrue(tmpfs.tmpcopyup)
    XCTAssertEqual(tmpfs.data, ["uid=1000"])
  }

  func testEveryOptionOfTheSpecIsAppliedOrRefusedByName() {
    // runtime-spec 1.3 config.md, "Linux mount options".
    let spec = [
      "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
      "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
      "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
      "remount", "rexec", "rnoatime", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",
      "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid",
      "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
      "tmpcopyup", "unbindable", "idmap", "ridmap",
    ]
    for name in spec {
      XCTAssertNotNil(MountOptions.table[name], "\(name) is not in the table")
    }
    // The spec's list lacks rnodev, the recursive form of nodev (runc and crun have it too).
    XCTAssertEqual(Set(MountOptions.supportedOptions), Set(spec).subtracting(["mand"]).union(["rnodev"]))
  }

  func testFeaturesListsNoRefusedOption() {
    for name in ["mand", "copy-symlink", "src-nofollow", "dest-nofollow"] {
      XCTAssertFalse(MountOptions.supportedOptions.contains(name), name)
      XCTAssertTrue(refusal([name]).contains("is refused"), name)
    }
  }

  func testBindMountRefusesWhatItCannotApply() {
    XCTAssertEqual(
      refusal(["rbind", "size=1m"], type: "bind"),
      "config.json: mounts[3].options[1]: \"size=1m\" is not a mount option cella knows, and a bind mount has no filesystem to pass it to"
    )
    for option in ["sync", "async", "dirsync", "lazytime", "nolazytime", "iversion", "noiversion", "remount"] {
      XCTAssertTrue(
        refusal(["bind", option], type: "none").hasPrefix("config.json: mounts[3].options[1]: \"\(option)\""), option)
    }
    XCTAssertEqual(refusal(["bind", "silent", "ro", "rro", "rprivate"], type: "none"), "")
  }

  func testKindSpecificOptionsAreRefusedElsewhere() {
    XCTAssertTrue(refusal(["idmap"]).contains("options[0]: \"idmap\" needs a bind mount"))
    XCTAssertTrue(refusal(["rbind", "tmpcopyup"], type: "bind").contains("options[1]: \"tmpcopyup\" applies to tmpfs"))
    XCTAssertTrue(refusal(["nosuid", "tmpcopyup"], type: "proc").contains("options[1]"))
    XCTAssertTrue(refusal(["ro", "mode=755"], type: "cgroup").contains("options[1]: \"mode=755\""))
  }

  func testPropagationIsLookedUpByName() {
    XCTAssertEqual(MountOptions.propagation(named: "rslave"), MountFlag.slave | MountFlag.rec)
    XCTAssertNil(MountOptions.propagation(named: "ro"))
  }
}
