import CellaOCI
import XCTest

/// Numbers the runtime later converts to narrower kernel types are refused here, with one line in
/// the shared `is out of range lo...hi` shape, instead of trapping in the runtime.
final class NumericRangeTests: XCTestCase {
  func testDeviceMajorOutsideUInt32IsRejected() {
    var spec = validSpec()
    spec.linux?.devices = [LinuxDevice(type: "c", path: "/dev/foo", major: -1, minor: 1)]
    assertRejected(spec, "config.json: linux.devices[0].major: -1 is out of range 0...4294967295")
    spec.linux?.devices = [LinuxDevice(type: "c", path: "/dev/foo", major: 1_099_511_627_776, minor: 1)]
    assertRejected(spec, "config.json: linux.devices[0].major: 1099511627776 is out of range 0...4294967295")
    spec.linux?.devices = [LinuxDevice(type: "b", path: "/dev/foo", major: 8, minor: -5)]
    assertRejected(spec, "config.json: linux.devices[0].minor: -5 is out of range 0...4294967295")
  }

  func testDeviceFileModeBeyondAnStModeIsRejected() {
    var spec = validSpec()
    spec.linux?.devices = [LinuxDevice(type: "c", path: "/dev/foo", major: 1, minor: 3, fileMode: 0o200000)]
    assertRejected(spec, "config.json: linux.devices[0].fileMode: 65536 is out of range 0...65535")
  }

  func testUnchangedIDIsRejectedAsAUser() {
    var spec = validSpec()
    spec.process?.user.uid = UInt32.max
    assertRejected(spec, "config.json: process.user.uid: 4294967295 is out of range 0...4294967294")
    spec.process?.user.uid = 0
    spec.process?.user.additionalGids = [1, UInt32.max]
    assertRejected(spec, "config.json: process.user.additionalGids[1]: 4294967295 is out of range 0...4294967294")
  }

  func testUmaskAndConsoleSizeOutsideTheirKernelTypesAreRejected() {
    var spec = validSpec()
    spec.process?.user.umask = 0o1000
    assertRejected(spec, "config.json: process.user.umask: 512 is out of range 0...511")
    spec.process?.user.umask = 0o022
    spec.process?.consoleSize = Box(height: 70000, width: 80)
    assertRejected(spec, "config.json: process.consoleSize.height: 70000 is out of range 0...65535")
  }

  func testHugeHookTimeoutIsRejected() {
    var spec = validSpec()
    spec.hooks = Hooks(prestart: [Hook(path: "/bin/true", timeout: Int.max)])
    assertRejected(spec, "config.json: hooks.prestart[0].timeout: \(Int.max) is out of range 1...2147483647")
  }

  func testMappingThatRunsPastTheIDSpaceIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.user))
    spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 4_294_967_000, size: 65536)]
    spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 0, size: 1)]
    assertRejected(spec, "config.json: linux.uidMappings[0].size: 65536 is out of range 1...296")
  }

  func testTimeOffsetOfASecondOrMoreInNanosecondsIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.time))
    spec.linux?.timeOffsets = ["monotonic": TimeOffset(secs: 1, nanosecs: 1_000_000_000)]
    assertRejected(spec, "config.json: linux.timeOffsets.monotonic.nanosecs: 1000000000 is out of range 0...999999999")
  }

  func testConvertNamesTheFieldInsteadOfTrapping() {
    XCTAssertThrowsError(try IntegerRange.convert(Int64(-1), to: UInt32.self, "f")) {
      XCTAssertEqual(($0 as? OCIError)?.message, "f: -1 is out of range 0...4294967295")
    }
    XCTAssertEqual(try IntegerRange.convert(Int64(7), to: UInt16.self, "f"), 7)
    XCTAssertThrowsError(try IntegerRange.convert(UInt32(8), to: UInt32.self, in: 0...7, "f")) {
      XCTAssertEqual(($0 as? OCIError)?.message, "f: 8 is out of range 0...7")
    }
  }
}
