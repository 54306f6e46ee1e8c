import CellaOCI
import XCTest

@testable import CellaCgroups

/// The v2 driver against a temporary tree shaped like a unified /sys/fs/cgroup.
final class V2DriverTests: XCTestCase {
  var tree: TempTree!
  var driver: V2Driver!
  let path = "/cella/c1"
  static let all = "cpuset cpu io memory hugetlb pids rdma"
  static let leafFiles = [
    "cgroup.procs", "cgroup.freeze", "memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max",
    "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max", "hugetlb.2MB.max",
    "rdma.max",
  ]

  // XCTest keeps every test case object to the end of the run, so the tree goes here, not in deinit.
  override func tearDown() {
    tree = nil
  }

  override func setUpWithError() throws {
    tree = try TempTree("v2")
    try tree.make(
      "", contents: ["cgroup.controllers": Self.all, "cgroup.subtree_control": "", "cpuset.cpus.effective": "0-3"])
    try tree.make("/cella", contents: ["cgroup.controllers": Self.all, "cgroup.subtree_control": ""])
    try tree.make(path, files: Self.leafFiles, contents: ["cgroup.controllers": Self.all, "cpu.max": "max 100000"])
    driver = V2Driver(root: tree.root)
  }

  func testCreateEnablesControllersInEveryAncestor() throws {
    try driver.create(path + "/sub")
    XCTAssertTrue(tree.exists(path + "/sub"))
    let enabled = "+cpu +cpuset +hugetlb +io +memory +pids +rdma"
    XCTAssertEqual(tree.read("/cgroup.subtree_control"), enabled)
    XCTAssertEqual(tree.read("/cella/cgroup.subtree_control"), enabled)
    // The leaf itself gets no subtree_control, or it could not hold processes.
    XCTAssertFalse(tree.exists(path + "/sub/cgroup.subtree_control"))
  }

  func testMemorySwapIsTheDifference() throws {
    try driver.apply(path, LinuxResources(memory: LinuxMemory(limit: 64 << 20, reservation: 16 << 20, swap: 96 << 20)))
    XCTAssertEqual(tree.read(path + "/memory.max"), "67108864")
    XCTAssertEqual(tree.read(path + "/memory.low"), "16777216")
    XCTAssertEqual(tree.read(path + "/memory.swap.max"), "33554432")
    try driver.apply(path, LinuxResources(memory: LinuxMemory(limit: -1, swap: -1)))
    XCTAssertEqual(tree.read(path + "/memory.max"), "max")
    XCTAssertEqual(tree.read(path + "/memory.swap.max"), "max")
  }

  func testCPU() throws {
    try driver.apply(
      path, LinuxResources(cpu: LinuxCPU(shares: 1024, quota: 20000, burst: 1000, period: 50000, idle: 0)))
    XCTAssertEqual(tree.read(path + "/cpu.weight"), "39")
    XCTAssertEqual(tree.read(path + "/cpu.max"), "20000 50000")
    XCTAssertEqual(tree.read(path + "/cpu.max.burst"), "1000")
    XCTAssertEqual(tree.read(path + "/cpu.idle"), "0")
    // A period alone keeps the quota in force; quota -1 is "max".
    try driver.apply(path, LinuxResources(cpu: LinuxCPU(period: 80000)))
    XCTAssertEqual(tree.read(path + "/cpu.max"), "20000 80000")
    try driver.apply(path, LinuxResources(cpu: LinuxCPU(quota: -1)))
    XCTAssertEqual(tree.read(path + "/cpu.max"), "max 80000")
    try driver.apply(path, LinuxResources(cpu: LinuxCPU(cpus: "2-3", mems: "0")))
    XCTAssertEqual(tree.read(path + "/cpuset.cpus"), "2-3")
  }

  func testIOPidsHugetlbRdmaUnified() throws {
    let r = LinuxResources(
      pids: LinuxPids(limit: 7),
      blockIO: LinuxBlockIO(weight: 500, throttleWriteBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 4096)]),
      hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 2 << 20)],
      rdma: ["mlx5_0": LinuxRdma(hcaHandles: 3, hcaObjects: 100)],
      unified: ["memory.low": "12345"])
    try driver.apply(path, r)
    XCTAssertEqual(tree.read(path + "/pids.max"), "7")
    XCTAssertEqual(tree.read(path + "/io.weight"), "default 4950")
    XCTAssertEqual(tree.read(path + "/io.max"), "8:0 wbps=4096")
    XCTAssertEqual(tree.read(path + "/hugetlb.2MB.max"), "2097152")
    XCTAssertEqual(tree.read(path + "/rdma.max"), "mlx5_0 hca_handle=3 hca_object=100")
    XCTAssertEqual(tree.read(path + "/memory.low"), "12345")
    try driver.apply(
      path, LinuxResources(blockIO: LinuxBlockIO(weightDevice: [LinuxWeightDevice(major: 8, minor: 16, weight: 10)])))
    XCTAssertEqual(tree.read(path + "/io.weight"), "8:16 1")
  }

  func testBFQWeightIsWrittenUnconverted() throws {
    try tree.make(path, files: ["io.bfq.weight"])
    try driver.apply(path, LinuxResources(blockIO: LinuxBlockIO(weight: 500)))
    XCTAssertEqual(tree.read(path + "/io.bfq.weight"), "500")
  }

  func testValidateRejectsV1OnlySettings() {
    let cases: [(LinuxResources, String)] = [
      (LinuxResources(memory: LinuxMemory(disableOOMKiller: true)), "linux.resources.memory.disableOOMKiller:"),
      (LinuxResources(memory: LinuxMemory(swap: 100)), "linux.resources.memory.swap:"),
      (LinuxResources(cpu: LinuxCPU(realtimeRuntime: 100)), "linux.resources.cpu.realtimeRuntime:"),
      (LinuxResources(cpu: LinuxCPU(cpus: "4")), "linux.resources.cpu.cpus: 4 is not available"),
      (LinuxResources(network: LinuxNetwork(classID: 7)), "linux.resources.network:"),
      (LinuxResources(blockIO: LinuxBlockIO(leafWeight: 100)), "linux.resources.blockIO.leafWeight:"),
      (LinuxResources(unified: ["nosuch.key": "1"]), "linux.resources.unified[\"nosuch.key\"]"),
    ]
    for (r, prefix) in cases {
      XCTAssertThrowsError(try driver.validate(r), prefix) {
        XCTAssertTrue("\($0)".hasPrefix(prefix), "expected \(prefix), got \($0)")
      }
    }
    XCTAssertNoThrow(try driver.validate(LinuxResources(memory: LinuxMemory(disableOOMKiller: false))))
  }

  func testUnknownUnifiedFileIsAnError() {
    XCTAssertThrowsError(try driver.apply(path, LinuxResources(unified: ["memory.nosuch": "1"]))) {
      XCTAssertTrue("\($0)".contains("memory.nosuch does not exist"), "\($0)")
    }
  }

  func testDevicesOnAPlainDirectoryAreRefusedClearly() {
    XCTAssertThrowsError(try driver.apply(path, LinuxResources(devices: [LinuxDeviceCgroup(allow: false)]))) {
      XCTAssertTrue("\($0)".contains("is not a cgroup2 directory"), "\($0)")
    }
  }

  func testFreezeStatsOOMAndDestroy() throws {
    try driver.freeze(path)
    XCTAssertEqual(tree.read(path + "/cgroup.freeze"), "1")
    XCTAssertTrue(driver.isFrozen(path))
    try driver.thaw(path)
    XCTAssertFalse(driver.isFrozen(path))
    try tree.make(
      path,
      contents: [
        "cpu.stat": "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 1\nthrottled_usec 7\n",
        "memory.current": "4096\n", "memory.max": "max\n", "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        "pids.current": "2\n", "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
      ])
    let s = driver.stats(path)
    XCTAssertEqual(s.cpu.usage.total, 100_000)
    XCTAssertEqual(s.cpu.usage.user, 60_000)
    XCTAssertEqual(s.cpu.throttling.throttledTime, 7000)
    XCTAssertEqual(s.memory.usage.usage, 4096)
    XCTAssertEqual(s.memory.usage.limit, UInt64.max)
    XCTAssertEqual(s.memory.usage.failcnt, 4)
    XCTAssertEqual(s.pids.current, 2)
    XCTAssertEqual(s.blkio.ioServiceBytesRecursive.map(\.value), [10, 20])
    XCTAssertEqual(driver.oomKillCount(path), 1)
    let fd = try driver.oomEventFD(path)
    XCTAssertGreaterThanOrEqual(fd.rawValue, 0)
    fd.close()
    try driver.destroy("/cella")
    XCTAssertFalse(tree.exists("/cella"))
  }
}

/// The eBPF device program's shape (loading it needs root; see RealHostTests).
final class DeviceProgramTests: XCTestCase {
  func testRulesAreCheckedLastFirstAndJumpsLandAfterTheirBlock() {
    let rules = [
      LinuxDeviceCgroup(allow: false, access: "rwm"),
      LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rw"),
      LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w"),
    ]
    let prog = DeviceProgram.assemble(rules)
    // 7 prologue + (type, 3-insn deny access, major, minor, mov, exit)=8 + (type, jset, major, minor, mov, exit)=6
    // + deny-all (mov, exit)=2; nothing after a rule that matches everything.
    XCTAssertEqual(prog.count, 7 + 8 + 6 + 2)
    // The last rule (deny write on 1:3) comes first.
    XCTAssertEqual(prog[7], .init(code: DeviceProgram.jneImm, dst: 3, off: 7, imm: 2))
    XCTAssertEqual(prog[10], .init(code: DeviceProgram.jeqImm, dst: 7, off: 4, imm: 0))
    XCTAssertEqual(prog[13], .init(code: DeviceProgram.mov64Imm, dst: 0, imm: 0))
    // The allow rule checks that no bit outside rw (m = 1) is requested.
    XCTAssertEqual(prog[16], .init(code: DeviceProgram.jsetImm, dst: 4, off: 4, imm: 1))
    XCTAssertEqual(prog[19], .init(code: DeviceProgram.mov64Imm, dst: 0, imm: 1))
    XCTAssertEqual(prog.last, .init(code: DeviceProgram.exit))
    XCTAssertEqual(prog[prog.count - 2], .init(code: DeviceProgram.mov64Imm, dst: 0, imm: 0))
    // Without a catch-all rule the program ends in a default deny.
    let partial = DeviceProgram.assemble([LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5)])
    XCTAssertEqual(partial.count, 7 + 5 + 2)
    XCTAssertEqual(prog[0].bytes, [0x61, 0x12, 0, 0, 0, 0, 0, 0])
  }

  func testV1EntryFormat() {
    XCTAssertEqual(DeviceRule(LinuxDeviceCgroup(allow: true)).v1Entry, "a *:* rwm")
    XCTAssertEqual(
      DeviceRule(LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: -1, access: "r")).v1Entry, "b 8:* r")
  }
}
