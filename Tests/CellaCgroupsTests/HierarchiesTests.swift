import XCTest

@testable import CellaCgroups

/// Layout detection from mountinfo texts of the three host kinds.
final class HierarchiesTests: XCTestCase {
  let hybrid = """
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
    34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
    37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
    38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
    39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """

  func testHybridLikeThisHost() throws {
    let tree = try TempTree("hyb")
    try tree.make("/sys/fs/cgroup/unified", contents: ["cgroup.controllers": "hugetlb\n"])
    let h = CgroupHierarchies.detect(mountinfo: hybrid, root: tree.root)
    XCTAssertEqual(h.layout, .hybrid)
    XCTAssertEqual(h.v1["memory"], tree.root + "/sys/fs/cgroup/memory")
    XCTAssertEqual(h.v1["name=systemd"], tree.root + "/sys/fs/cgroup/systemd")
    XCTAssertEqual(h.v1.count, 9)
    XCTAssertEqual(h.unified, tree.root + "/sys/fs/cgroup/unified")
    XCTAssertEqual(h.unifiedControllers, ["hugetlb"])
  }

  func testPureV1WithCoMountedControllers() {
    let text = """
      25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
      26 24 0:23 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid - cgroup cgroup rw,net_cls,net_prio
      27 24 0:24 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
      28 24 0:25 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
      """
    let h = CgroupHierarchies.detect(mountinfo: text)
    XCTAssertEqual(h.layout, .v1)
    XCTAssertEqual(h.v1["cpu"], "/sys/fs/cgroup/cpu,cpuacct")
    XCTAssertEqual(h.v1["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct")
    XCTAssertEqual(h.v1["net_prio"], "/sys/fs/cgroup/net_cls,net_prio")
    XCTAssertNil(h.unified)
    XCTAssertEqual(h.v1MountPoints.count, 4)
  }

  func testUnified() throws {
    let tree = try TempTree("uni")
    try tree.make("/sys/fs/cgroup", contents: ["cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n"])
    let text = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate"
    let h = CgroupHierarchies.detect(mountinfo: text, root: tree.root)
    XCTAssertEqual(h.layout, .unified)
    XCTAssertEqual(h.unified, tree.root + "/sys/fs/cgroup")
    XCTAssertTrue(h.v1.isEmpty)
    XCTAssertEqual(h.unifiedControllers, ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"])
    XCTAssertTrue(Cgroups.driver(hierarchies: h) is V2Driver)
  }

  func testNamedV1HierarchyOnAUnifiedHostIsStillUnified() {
    let text = """
      30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
      31 30 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
      """
    XCTAssertEqual(CgroupHierarchies.detect(mountinfo: text).layout, .unified)
  }

  func testThisHostDetects() {
    let h = CgroupHierarchies.detect()
    XCTAssertNotNil(h.v1["memory"] ?? h.unified, "no cgroup hierarchy found on this host")
  }
}

/// cgroupsPath resolution and unit conversions.
final class ResolvePathTests: XCTestCase {
  func testCgroupfsForms() throws {
    XCTAssertEqual(try Cgroups.resolvePath("/a/b", id: "x", systemd: false), "/a/b")
    XCTAssertEqual(try Cgroups.resolvePath("a/b", id: "x", systemd: false), "/cella/a/b")
    XCTAssertEqual(try Cgroups.resolvePath(nil, id: "x", systemd: false), "/cella/x")
    XCTAssertEqual(try Cgroups.resolvePath("", id: "x", systemd: false), "/cella/x")
    XCTAssertEqual(try Cgroups.resolvePath("//a//b/", id: "x", systemd: false), "/a/b")
    XCTAssertThrowsError(try Cgroups.resolvePath("/a/../b", id: "x", systemd: false)) {
      XCTAssertTrue("\($0)".hasPrefix("linux.cgroupsPath:"), "\($0)")
    }
  }

  func testSystemdForms() throws {
    XCTAssertEqual(
      try Cgroups.resolvePath("system.slice:docker:abc", id: "x", systemd: true), "/system.slice/docker-abc.scope")
    XCTAssertEqual(
      try Cgroups.resolvePath("machine-qemu.slice:libpod:abc", id: "x", systemd: true),
      "/machine.slice/machine-qemu.slice/libpod-abc.scope")
    XCTAssertEqual(try Cgroups.resolvePath(":cella:abc", id: "x", systemd: true), "/system.slice/cella-abc.scope")
    XCTAssertEqual(try Cgroups.resolvePath("-.slice::abc", id: "x", systemd: true), "/abc.scope")
    XCTAssertEqual(try Cgroups.resolvePath(nil, id: "x", systemd: true), "/system.slice/cella-x.scope")
    XCTAssertThrowsError(try Cgroups.resolvePath("/a/b", id: "x", systemd: true))
    XCTAssertThrowsError(try Cgroups.resolvePath("notaslice:p:n", id: "x", systemd: true))
  }

  func testConversions() {
    XCTAssertEqual(Cgroups.sharesToWeight(0), 0)
    XCTAssertEqual(Cgroups.sharesToWeight(2), 1)
    XCTAssertEqual(Cgroups.sharesToWeight(1024), 39)
    XCTAssertEqual(Cgroups.sharesToWeight(262_144), 10000)
    XCTAssertEqual(Cgroups.blkioWeightToIOWeight(0), 0)
    XCTAssertEqual(Cgroups.blkioWeightToIOWeight(10), 1)
    XCTAssertEqual(Cgroups.blkioWeightToIOWeight(500), 4950)
    XCTAssertEqual(Cgroups.blkioWeightToIOWeight(1000), 10000)
  }

  func testCPUListAndPageSizes() {
    XCTAssertEqual(CPUList.parse("0-3,5"), [0, 1, 2, 3, 5])
    XCTAssertNil(CPUList.parse("3-1"))
    XCTAssertNil(CPUList.parse("a"))
    XCTAssertEqual(CPUList.format([0, 1, 2, 5, 7, 8]), "0-2,5,7-8")
    XCTAssertEqual(HugePages.parse("2MB"), 2 << 20)
    XCTAssertNil(HugePages.parse("2M"))
  }
}
