import CellaOCI
import XCTest

@testable import CellaCgroups

/// The v1 driver (hybrid shape, like this host) against a temporary tree.
final class V1DriverTests: XCTestCase {
  var tree: TempTree!
  var driver: V1Driver!
  let path = "/cella/c1"

  static let controllers = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"]

  /// Files the kernel creates in a new cgroup of each hierarchy (the ones the driver touches).
  static let files: [String: [String]] = [
    "cpu": [
      "cgroup.procs", "cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
      "cpu.rt_runtime_us", "cpu.idle",
    ],
    "cpuacct": ["cgroup.procs"],
    "cpuset": ["cgroup.procs", "cpuset.cpus", "cpuset.mems"],
    "memory": [
      "cgroup.procs", "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
      "memory.kmem.tcp.limit_in_bytes", "memory.swappiness", "memory.oom_control", "cgroup.event_control",
    ],
    "devices": ["cgroup.procs", "devices.allow", "devices.deny"],
    "freezer": ["cgroup.procs", "freezer.state"],
    // Like this host: BFQ files only, no CFQ blkio.weight.
    "blkio": [
      "cgroup.procs", "blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device",
      "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
    ],
    "pids": ["cgroup.procs", "pids.max"],
    "systemd": ["cgroup.procs"],
  ]

  // XCTest keeps every test case object to the end of the run, so the tree goes here, not in deinit.
  override func tearDown() {
    tree = nil
  }

  override func setUpWithError() throws {
    tree = try TempTree("v1")
    var v1: [String: String] = [:]
    for c in Self.controllers { v1[c] = tree.root + "/\(c)" }
    v1["name=systemd"] = tree.root + "/systemd"
    for (name, files) in Self.files {
      try tree.make("/\(name)", files: [])
      // The kernel pre-creates a cgroup's files; here both levels get them.
      try tree.make("/\(name)/cella", files: files)
      try tree.make("/\(name)\(path)", files: files)
    }
    try tree.make("/cpuset", contents: ["cpuset.cpus": "0-1\n", "cpuset.mems": "0\n"])
    try tree.make("/unified", contents: ["cgroup.controllers": "hugetlb\n", "cgroup.subtree_control": ""])
    try tree.make("/unified\(path)", files: ["cgroup.procs", "hugetlb.2MB.max", "memory.pressure"])
    let h = CgroupHierarchies(
      layout: .hybrid, v1: v1, unified: tree.root + "/unified", unifiedControllers: ["hugetlb"])
    driver = V1Driver(hierarchies: h)
  }

  func testCreateMakesEveryHierarchyAndCopiesCpusetDown() throws {
    try driver.create(path)
    for name in Self.files.keys { XCTAssertTrue(tree.exists("/\(name)\(path)"), name) }
    XCTAssertTrue(tree.exists("/unified\(path)"))
    XCTAssertEqual(tree.read("/cpuset/cella/cpuset.cpus"), "0-1")
    XCTAssertEqual(tree.read("/cpuset/cella/cpuset.mems"), "0")
    XCTAssertEqual(tree.read("/cpuset\(path)/cpuset.cpus"), "0-1")
    XCTAssertEqual(tree.read("/cpuset\(path)/cpuset.mems"), "0")
    // hugetlb exists only in the unified mount, so it is enabled there.
    XCTAssertEqual(tree.read("/unified/cgroup.subtree_control"), "+hugetlb")
  }

  func testCreateAnnouncesEachMissingParentBeforeMakingItAndNoOther() throws {
    var announced: [String] = []
    try driver.create("/cella/new/deeper/c2") { event throws(CgroupError) in
      guard case .willMakeParent(let dir) = event else { return XCTFail("unexpected \(event)") }
      XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "\(dir) announced after it was made")
      announced.append(dir)
    }
    // "/cella" was there; "new" and "deeper" are made in every hierarchy; the leaf is the caller's own.
    let mounts = Self.controllers.map { tree.root + "/\($0)" } + [tree.root + "/systemd", tree.root + "/unified"]
    let expected = mounts.flatMap { ["\($0)/cella/new", "\($0)/cella/new/deeper"] }
    XCTAssertEqual(announced.sorted(), expected.sorted())
    XCTAssertEqual(Set(driver.directories("/cella/new")), Set(mounts.map { "\($0)/cella/new" }))
  }

  /// A parent someone else makes between the announcement and the mkdir is not the caller's to remove.
  func testAParentMadeByAnotherAfterItsAnnouncementIsTakenBack() throws {
    var events: [CgroupCreateEvent] = []
    try driver.create("/cella/raced/c3") { event throws(CgroupError) in
      events.append(event)
      if case .willMakeParent(let dir) = event { mkdir(dir, 0o755) }
    }
    let mounts = Self.controllers.map { tree.root + "/\($0)" } + [tree.root + "/systemd", tree.root + "/unified"]
    // Each announcement is followed by its retraction, hierarchy by hierarchy.
    let pairs = stride(from: 0, to: events.count, by: 2).map {
      "\(events[$0]) \(events[min($0 + 1, events.count - 1)])"
    }
    let expected = mounts.map {
      "\(CgroupCreateEvent.willMakeParent("\($0)/cella/raced")) \(CgroupCreateEvent.parentExisted("\($0)/cella/raced"))"
    }
    XCTAssertEqual(pairs.sorted(), expected.sorted())
  }

  func testALeafThatIsThereAlreadyIsReportedInEveryHierarchy() throws {
    try driver.create("/cella/given")
    var events: [CgroupCreateEvent] = []
    try driver.create("/cella/given") { event throws(CgroupError) in events.append(event) }
    let mounts = Self.controllers.map { tree.root + "/\($0)" } + [tree.root + "/systemd", tree.root + "/unified"]
    XCTAssertEqual(Set(events), Set(mounts.map { .leafExisted("\($0)/cella/given") }))
    XCTAssertEqual(events.count, mounts.count)
  }

  func testJoinWritesEveryHierarchy() throws {
    try driver.join(path, pid: 4242)
    for name in Self.files.keys { XCTAssertEqual(tree.read("/\(name)\(path)/cgroup.procs"), "4242", name) }
    XCTAssertEqual(tree.read("/unified\(path)/cgroup.procs"), "4242")
    XCTAssertEqual(driver.processes(path), [4242])
  }

  func testMemory() throws {
    let mem = LinuxMemory(
      limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, kernel: 1 << 20, kernelTCP: 4 << 20, swappiness: 10,
      disableOOMKiller: true)
    try driver.apply(path, LinuxResources(memory: mem))
    let d = "/memory\(path)/"
    XCTAssertEqual(tree.read(d + "memory.limit_in_bytes"), "67108864")
    XCTAssertEqual(tree.read(d + "memory.soft_limit_in_bytes"), "33554432")
    XCTAssertEqual(tree.read(d + "memory.memsw.limit_in_bytes"), "134217728")
    XCTAssertEqual(tree.read(d + "memory.kmem.tcp.limit_in_bytes"), "4194304")
    XCTAssertEqual(tree.read(d + "memory.swappiness"), "10")
    XCTAssertEqual(tree.read(d + "memory.oom_control"), "1")
  }

  func testMemoryCheckBeforeUpdateRefusesALimitBelowUsage() throws {
    try tree.make("/memory\(path)", contents: ["memory.usage_in_bytes": "100000000\n"])
    XCTAssertThrowsError(
      try driver.apply(path, LinuxResources(memory: LinuxMemory(limit: 1 << 20, checkBeforeUpdate: true)))
    ) {
      let m = "\($0)"
      XCTAssertTrue(m.hasPrefix("linux.resources.memory.limit:"), m)
      XCTAssertTrue(m.contains("memory.usage_in_bytes"), m)
    }
    XCTAssertEqual(tree.read("/memory\(path)/memory.limit_in_bytes"), "")
  }

  func testCPU() throws {
    let cpu = LinuxCPU(
      shares: 512, quota: 50000, burst: 10000, period: 100_000, realtimeRuntime: 950, realtimePeriod: 1000,
      cpus: "1", mems: "0", idle: 1)
    try driver.apply(path, LinuxResources(cpu: cpu))
    let d = "/cpu\(path)/"
    XCTAssertEqual(tree.read(d + "cpu.shares"), "512")
    XCTAssertEqual(tree.read(d + "cpu.cfs_quota_us"), "50000")
    XCTAssertEqual(tree.read(d + "cpu.cfs_period_us"), "100000")
    XCTAssertEqual(tree.read(d + "cpu.cfs_burst_us"), "10000")
    XCTAssertEqual(tree.read(d + "cpu.rt_runtime_us"), "950")
    XCTAssertEqual(tree.read(d + "cpu.rt_period_us"), "1000")
    XCTAssertEqual(tree.read(d + "cpu.idle"), "1")
    XCTAssertEqual(tree.read("/cpuset\(path)/cpuset.cpus"), "1")
    XCTAssertEqual(tree.read("/cpuset\(path)/cpuset.mems"), "0")
  }

  func testPidsBlkioHugetlbDevices() throws {
    let r = LinuxResources(
      devices: [
        LinuxDeviceCgroup(allow: false, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
      ],
      pids: LinuxPids(limit: 20),
      blockIO: LinuxBlockIO(
        weight: 300, weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 200)],
        throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1_048_576)],
        throttleReadIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 16, rate: 100)]),
      hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4 << 20)])
    try driver.apply(path, r)
    XCTAssertEqual(tree.read("/pids\(path)/pids.max"), "20")
    XCTAssertEqual(tree.read("/blkio\(path)/blkio.bfq.weight"), "300")
    XCTAssertEqual(tree.read("/blkio\(path)/blkio.bfq.weight_device"), "8:0 200")
    XCTAssertEqual(tree.read("/blkio\(path)/blkio.throttle.read_bps_device"), "8:0 1048576")
    XCTAssertEqual(tree.read("/blkio\(path)/blkio.throttle.read_iops_device"), "8:16 100")
    XCTAssertEqual(tree.read("/unified\(path)/hugetlb.2MB.max"), "4194304")
    XCTAssertEqual(tree.read("/devices\(path)/devices.deny"), "a")
    XCTAssertEqual(tree.read("/devices\(path)/devices.allow"), "c 1:3 rwm")
    try driver.apply(path, LinuxResources(pids: LinuxPids(limit: 0)))
    XCTAssertEqual(tree.read("/pids\(path)/pids.max"), "max")
  }

  func testMissingFileErrorNamesFieldAndFile() {
    let r = LinuxResources(
      blockIO: LinuxBlockIO(throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 5)]))
    XCTAssertThrowsError(try driver.apply(path, r)) {
      let m = "\($0)"
      XCTAssertTrue(m.hasPrefix("linux.resources.blockIO.throttleWriteIOPSDevice[0]: open "), m)
      XCTAssertTrue(m.contains("/blkio/cella/c1/blkio.throttle.write_iops_device: no such file or directory"), m)
    }
  }

  func testUnifiedKeysGoToTheUnifiedMountOnHybrid() throws {
    try driver.apply(path, LinuxResources(unified: ["hugetlb.2MB.max": "2097152"]))
    XCTAssertEqual(tree.read("/unified\(path)/hugetlb.2MB.max"), "2097152")
    XCTAssertThrowsError(try driver.apply(path, LinuxResources(unified: ["memory.max": "1"]))) {
      XCTAssertTrue("\($0)".contains("\"memory\" is not a v2 controller"), "\($0)")
    }
    XCTAssertThrowsError(try driver.apply(path, LinuxResources(unified: ["hugetlb.1GB.max": "0"]))) {
      XCTAssertTrue("\($0)".contains("hugetlb.1GB.max does not exist"), "\($0)")
    }
  }

  func testValidateRejectsBadValuesNamingTheField() {
    let cases: [(LinuxResources, String)] = [
      (LinuxResources(cpu: LinuxCPU(quota: 500)), "linux.resources.cpu.quota:"),
      (LinuxResources(cpu: LinuxCPU(period: 10)), "linux.resources.cpu.period:"),
      (LinuxResources(cpu: LinuxCPU(cpus: "0-3")), "linux.resources.cpu.cpus: 2 is not available"),
      (LinuxResources(cpu: LinuxCPU(mems: "x")), "linux.resources.cpu.mems:"),
      (LinuxResources(cpu: LinuxCPU(quota: 5000, burst: 6000)), "linux.resources.cpu.burst:"),
      (LinuxResources(devices: [LinuxDeviceCgroup(allow: true, type: "x")]), "linux.resources.devices[0].type:"),
      (LinuxResources(devices: [LinuxDeviceCgroup(allow: true, access: "rx")]), "linux.resources.devices[0].access:"),
      (LinuxResources(memory: LinuxMemory(limit: 100, swap: 50)), "linux.resources.memory.swap:"),
      (LinuxResources(memory: LinuxMemory(swappiness: 101)), "linux.resources.memory.swappiness:"),
      (LinuxResources(blockIO: LinuxBlockIO(weight: 5)), "linux.resources.blockIO.weight:"),
      (LinuxResources(network: LinuxNetwork(classID: 1)), "linux.resources.network.classID: the net_cls"),
      (LinuxResources(rdma: ["mlx": LinuxRdma(hcaHandles: 1)]), "linux.resources.rdma: the rdma controller"),
      (LinuxResources(unified: ["../x": "1"]), "linux.resources.unified[\"../x\"]"),
      (
        LinuxResources(hugepageLimits: [LinuxHugepageLimit(pageSize: "2M", limit: 1)]),
        "linux.resources.hugepageLimits[0].pageSize:"
      ),
    ]
    for (r, prefix) in cases {
      XCTAssertThrowsError(try driver.validate(r), prefix) {
        XCTAssertTrue("\($0)".hasPrefix(prefix), "expected \(prefix), got \($0)")
      }
    }
    // Nothing was written by a failed apply.
    XCTAssertThrowsError(try driver.apply(path, LinuxResources(cpu: LinuxCPU(quota: 1), pids: LinuxPids(limit: 5))))
    XCTAssertEqual(tree.read("/pids\(path)/pids.max"), "")
  }

  func testUnifiedOnPureV1IsAnError() {
    let v1Only = V1Driver(hierarchies: CgroupHierarchies(layout: .v1, v1: ["memory": tree.root + "/memory"]))
    XCTAssertThrowsError(try v1Only.validate(LinuxResources(unified: ["memory.max": "1"]))) {
      XCTAssertTrue("\($0)".hasPrefix("linux.resources.unified: this host has no cgroup v2"), "\($0)")
    }
  }

  func testFreezeThaw() throws {
    try driver.freeze(path)
    XCTAssertEqual(tree.read("/freezer\(path)/freezer.state"), "FROZEN")
    XCTAssertTrue(driver.isFrozen(path))
    try driver.thaw(path)
    XCTAssertFalse(driver.isFrozen(path))
  }

  func testStatsAndOOMCount() throws {
    try tree.make(
      "/memory\(path)",
      contents: [
        "memory.usage_in_bytes": "1000\n", "memory.max_usage_in_bytes": "2000\n", "memory.failcnt": "3\n",
        "memory.limit_in_bytes": "67108864\n", "memory.stat": "cache 4096\nrss 8192\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
      ])
    try tree.make("/pids\(path)", contents: ["pids.current": "3\n", "pids.max": "max\n"])
    try tree.make(
      "/cpuacct\(path)",
      contents: [
        "cpuacct.usage": "123456\n", "cpuacct.usage_percpu": "100000 23456 \n", "cpuacct.usage_user": "5\n",
        "cpuacct.usage_sys": "6\n",
      ])
    try tree.make("/cpu\(path)", contents: ["cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 999\n"])
    try tree.make(
      "/blkio\(path)",
      contents: ["blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n"])
    let s = driver.stats(path)
    XCTAssertEqual(s.memory.usage.usage, 1000)
    XCTAssertEqual(s.memory.usage.max, 2000)
    XCTAssertEqual(s.memory.usage.failcnt, 3)
    XCTAssertEqual(s.memory.usage.limit, 67_108_864)
    XCTAssertEqual(s.memory.cache, 4096)
    XCTAssertEqual(s.memory.raw["rss"], 8192)
    XCTAssertEqual(s.pids.current, 3)
    XCTAssertEqual(s.pids.limit, 0)
    XCTAssertEqual(s.cpu.usage.total, 123_456)
    XCTAssertEqual(s.cpu.usage.percpu, [100_000, 23456])
    XCTAssertEqual(s.cpu.usage.user, 5)
    XCTAssertEqual(s.cpu.usage.kernel, 6)
    XCTAssertEqual(s.cpu.throttling.throttledPeriods, 2)
    XCTAssertEqual(s.cpu.throttling.throttledTime, 999)
    XCTAssertEqual(
      s.blkio.ioServiceBytesRecursive,
      [.init(major: 8, minor: 0, op: "Read", value: 4096), .init(major: 8, minor: 0, op: "Write", value: 0)])
    XCTAssertEqual(driver.oomKillCount(path), 2)
    let json = try JSONEncoder().encode(s)
    XCTAssertEqual(try JSONDecoder().decode(CgroupStats.self, from: json), s)
  }

  func testDestroyRemovesEverything() throws {
    try tree.make("/memory\(path)/child", files: ["cgroup.procs"])
    try driver.destroy(path)
    for name in Self.files.keys {
      XCTAssertFalse(tree.exists("/\(name)\(path)"), name)
      XCTAssertTrue(tree.exists("/\(name)/cella"), name)
    }
    XCTAssertFalse(tree.exists("/unified\(path)"))
    try driver.destroy(path)  // missing is fine
  }
}
