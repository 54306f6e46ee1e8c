import CellaOCI
import XCTest

@testable import CellaSecurity

/// How process.capabilities becomes the masks init applies.
final class CapabilityPlanTests: XCTestCase {
  private let three = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
  private let threeMask: UInt64 = 1 << 29 | 1 << 5 | 1 << 10

  /// runc's default config lists ambient capabilities without inheritable ones: the kernel would
  /// refuse to raise them, so they are left out and named for the log instead of failing the container.
  func testAmbientOutsidePermittedAndInheritableIsSkipped() throws {
    var caps = LinuxCapabilities()
    caps.bounding = three
    caps.effective = three
    caps.permitted = three
    caps.ambient = three
    let plan = try Capabilities.plan(caps, hostBounding: ~0)
    XCTAssertEqual(plan.ambient, 0)
    XCTAssertEqual(plan.skippedAmbient, three)
    XCTAssertEqual(plan.permitted, threeMask)
    XCTAssertEqual(plan.effective, threeMask)
  }

  func testAmbientInPermittedAndInheritableIsKept() throws {
    var caps = LinuxCapabilities()
    caps.permitted = three
    caps.inheritable = ["CAP_KILL", "CAP_AUDIT_WRITE"]
    caps.ambient = ["cap_kill", "CAP_AUDIT_WRITE", "NET_BIND_SERVICE"]
    let plan = try Capabilities.plan(caps, hostBounding: ~0)
    XCTAssertEqual(plan.ambient, 1 << 5 | 1 << 29)
    XCTAssertEqual(plan.skippedAmbient, ["NET_BIND_SERVICE"])
  }
}
