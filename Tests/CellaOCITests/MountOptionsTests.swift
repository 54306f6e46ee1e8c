import CellaOCI
import XCTest

final class MountOptionsTests: XCTestCase {
  func testFlagsPropagationBindAndDataAreSplit() {
    let options = MountOptions.parse(["ro", "nosuid", "rbind", "rprivate", "size=65536k", "mode=755"])
    XCTAssertEqual(options.flags, MountFlag.rdonly | MountFlag.nosuid | MountFlag.bind | MountFlag.rec)
    XCTAssertEqual(options.propagation, MountFlag.private | MountFlag.rec)
    XCTAssertTrue(options.isBind)
    XCTAssertTrue(options.isRecursive)
    XCTAssertEqual(options.data, ["size=65536k", "mode=755"])
    XCTAssertEqual(options.dataString, "size=65536k,mode=755")
    XCTAssertTrue(options.isReadOnly)
  }

  func testFlagValuesMatchTheKernel() {
    XCTAssertEqual(MountOptions.parse(["nodev"]).flags, 4)
    XCTAssertEqual(MountOptions.parse(["noexec"]).flags, 8)
    XCTAssertEqual(MountOptions.parse(["sync"]).flags, 16)
    XCTAssertEqual(MountOptions.parse(["remount"]).flags, 32)
    XCTAssertEqual(MountOptions.parse(["mand"]).flags, 64)
    XCTAssertEqual(MountOptions.parse(["dirsync"]).flags, 128)
    XCTAssertEqual(MountOptions.parse(["nosymfollow"]).flags, 256)
    XCTAssertEqual(MountOptions.parse(["noatime"]).flags, 1024)
    XCTAssertEqual(MountOptions.parse(["nodiratime"]).flags, 2048)
    XCTAssertEqual(MountOptions.parse(["silent"]).flags, 32768)
    XCTAssertEqual(MountOptions.parse(["relatime"]).flags, 1 << 21)
    XCTAssertEqual(MountOptions.parse(["strictatime"]).flags, 1 << 24)
    XCTAssertEqual(MountOptions.parse(["lazytime"]).flags, 1 << 25)
    XCTAssertEqual(MountOptions.parse(["shared"]).propagation, 1 << 20)
    XCTAssertEqual(MountOptions.parse(["rslave"]).propagation, (1 << 19) | 16384)
    XCTAssertEqual(MountOptions.parse(["unbindable"]).propagation, 1 << 17)
  }

  func testPlainBindIsNotRecursive() {
    let options = MountOptions.parse(["bind"])
    XCTAssertTrue(options.isBind)
    XCTAssertFalse(options.isRecursive)
    XCTAssertEqual(options.flags, MountFlag.bind)
  }

  func testClearingOptionsAreRecordedAndLaterOptionsWin() {
    let options = MountOptions.parse(["ro", "rw", "suid", "dev", "exec", "atime", "diratime", "norelatime"])
    XCTAssertEqual(options.flags, 0)
    XCTAssertEqual(
      options.clearFlags,
      MountFlag.rdonly | MountFlag.nosuid | MountFlag.nodev | MountFlag.noexec | MountFlag.noatime
        | MountFlag.nodiratime | MountFlag.relatime)
    let back = MountOptions.parse(["rw", "ro"])
    XCTAssertEqual(back.flags, MountFlag.rdonly)
    XCTAssertEqual(back.clearFlags, 0)
  }

  func testRecursiveAttributesAreRecorded() {
    let options = MountOptions.parse(["rbind", "rro", "rnosuid", "rnoatime"])
    XCTAssertEqual(options.recursiveAttrs, ["rro", "rnosuid", "rnoatime"])
    XCTAssertEqual(options.recursiveAttrSet, MountAttr.rdonly | MountAttr.nosuid | MountAttr.noatime)
    XCTAssertEqual(options.recursiveAttrClear, MountAttr.atimeMask)
    XCTAssertEqual(options.flags & MountFlag.rdonly, 0, "rro must not become a plain ro flag")
  }

  func testIdmapDefaultsAndExtensionsAreNotPassedToTheFilesystem() {
    let options = MountOptions.parse(["defaults", "ridmap", "tmpcopyup", "uid=1000"])
    XCTAssertTrue(options.isIdmap)
    XCTAssertTrue(options.isIdmapRecursive)
    XCTAssertEqual(options.extensions, ["tmpcopyup"])
    XCTAssertEqual(options.data, ["uid=1000"])
    XCTAssertTrue(MountOptions.knownOptions.contains("rprivate"))
  }
}
