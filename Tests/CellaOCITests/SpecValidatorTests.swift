import CellaOCI
import Foundation
import XCTest

final class SpecValidatorTests: XCTestCase {
  func testValidDefaultSpecPasses() {
    XCTAssertNoThrow(try permissiveValidator().validate(validSpec()))
  }

  // MARK: process

  func testMissingProcessIsRejected() {
    var spec = validSpec()
    spec.process = nil
    assertRejected(spec, "config.json: process: missing")
  }

  func testMissingOrEmptyArgsAreRejected() {
    var spec = validSpec()
    spec.process?.args = nil
    assertRejected(spec, "config.json: process.args: missing or empty")
    spec.process?.args = []
    assertRejected(spec, "config.json: process.args: missing or empty")
  }

  func testRelativeCwdIsRejected() {
    var spec = validSpec()
    spec.process?.cwd = "srv"
    assertRejected(spec, "config.json: process.cwd: must be an absolute path, got \"srv\"")
  }

  func testUnknownRlimitIsRejectedNamingItsIndex() {
    var spec = validSpec()
    spec.process?.rlimits = [
      POSIXRlimit(type: "RLIMIT_CORE", hard: 0, soft: 0), .init(type: "RLIMIT_FOO", hard: 1, soft: 1),
    ]
    assertRejected(spec, "config.json: process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"")
  }

  func testRlimitSoftAboveHardIsRejected() {
    var spec = validSpec()
    spec.process?.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 2048)]
    assertRejected(spec, "config.json: process.rlimits[0]: soft limit 2048 is greater than hard limit 1024")
  }

  func testDuplicateRlimitIsRejected() {
    var spec = validSpec()
    spec.process?.rlimits = [
      POSIXRlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 10), .init(type: "RLIMIT_NPROC", hard: 10, soft: 10),
      .init(type: "RLIMIT_NOFILE", hard: 20, soft: 20),
    ]
    assertRejected(spec, "config.json: process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\"")
  }

  func testAllSixteenRlimitsAreKnown() {
    var spec = validSpec()
    let names = [
      "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING",
      "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
    ]
    spec.process?.rlimits = names.map { POSIXRlimit(type: "RLIMIT_\($0)", hard: 5, soft: 5) }
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  func testOomScoreAdjOutOfRangeIsRejected() {
    var spec = validSpec()
    spec.process?.oomScoreAdj = 1001
    assertRejected(spec, "config.json: process.oomScoreAdj: 1001 is out of range -1000...1000")
    spec.process?.oomScoreAdj = -1000
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  // MARK: root

  func testMissingRootIsRejected() {
    var spec = validSpec()
    spec.root = nil
    assertRejected(spec, "config.json: root: missing")
  }

  func testRootPathMissingOnDiskIsResolvedAgainstTheBundle() throws {
    let bundle = try TempBundle()
    var spec = validSpec()
    spec.root?.path = "nosuchdir"
    assertRejected(
      spec, "config.json: root.path: \"\(bundle.path)/nosuchdir\" does not exist",
      validator: SpecValidator(bundle: bundle.path, hostHasPath: hostExists))
    spec.root?.path = "rootfs"
    XCTAssertNoThrow(try SpecValidator(bundle: bundle.path, hostHasPath: hostExists).validate(spec))
    spec.root?.path = bundle.path + "/rootfs"
    XCTAssertNoThrow(try SpecValidator(bundle: "/elsewhere", hostHasPath: hostExists).validate(spec))
  }

  // MARK: hostname

  func testHostnameWithoutUTSNamespaceIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.removeAll { $0.type == "uts" }
    assertRejected(spec, "config.json: hostname: cannot set a hostname without a uts namespace")
    spec.hostname = nil
    spec.domainname = "example.org"
    assertRejected(spec, "config.json: domainname:")
  }

  // MARK: mounts

  func testRelativeMountDestinationIsRejectedNamingItsIndex() {
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "tmp", type: "tmpfs", source: "tmpfs"))
    assertRejected(spec, "config.json: mounts[7].destination: must be an absolute path, got \"tmp\"")
  }

  func testBindMountWithMissingSourceIsRejected() throws {
    let bundle = try TempBundle()
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "/data", type: "bind", source: "/nonexistent/cella/src", options: ["rbind"]))
    assertRejected(
      spec, "config.json: mounts[7].source: \"/nonexistent/cella/src\" does not exist (bind mount source)",
      validator: SpecValidator(bundle: bundle.path, hostHasPath: hostExists))
  }

  func testBindDetectedByOptionAndRelativeSourceResolvesAgainstBundle() throws {
    let bundle = try TempBundle()
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "/data", type: "none", source: "data", options: ["bind", "ro"]))
    assertRejected(
      spec, "mounts[7].source: \"\(bundle.path)/data\" does not exist",
      validator: SpecValidator(bundle: bundle.path, hostHasPath: hostExists))
    try FileManager.default.createDirectory(atPath: bundle.path + "/data", withIntermediateDirectories: false)
    XCTAssertNoThrow(try SpecValidator(bundle: bundle.path, hostHasPath: hostExists).validate(spec))
  }

  func testBindMountWithoutSourceIsRejected() {
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "/data", type: "bind"))
    assertRejected(spec, "config.json: mounts[7].source: missing")
  }

  func testNonBindMountSourceIsNotCheckedOnTheHost() {
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "/run", type: "tmpfs", source: "tmpfs", options: ["size=1m"]))
    XCTAssertNoThrow(try SpecValidator(bundle: "/b", hostHasPath: { $0 == "/b/rootfs" }).validate(spec))
  }

  func testAMountSourceLongerThanMountTakesIsRejectedNamingIt() {
    var spec = validSpec()
    spec.mounts?.append(Mount(destination: "/run", type: "tmpfs", source: String(repeating: "a", count: 4096)))
    assertRejected(spec, "config.json: mounts[7].source: is 4096 bytes long; mount(2) takes at most 4095")
    spec.mounts?[7].source = String(repeating: "a", count: 4095)
    XCTAssertNoThrow(try SpecValidator(bundle: "/b", hostHasPath: { $0 == "/b/rootfs" }).validate(spec))
  }

  // MARK: namespaces and mappings

  func testUnknownNamespaceTypeIsRejectedNamingItsIndex() {
    var spec = validSpec()
    spec.linux?.namespaces = [LinuxNamespace(.pid), LinuxNamespace(.mount), LinuxNamespace(type: "bogus")]
    spec.hostname = nil
    assertRejected(spec, "config.json: linux.namespaces[2].type: unknown namespace \"bogus\"")
  }

  func testDuplicateNamespaceIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces = [.init(.pid), .init(.mount), .init(.uts), .init(type: "pid", path: "/proc/1/ns/pid")]
    assertRejected(spec, "config.json: linux.namespaces[3].type: duplicate namespace \"pid\"")
  }

  func testRelativeNamespacePathIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.time, path: "ns/time"))
    assertRejected(spec, "config.json: linux.namespaces[6].path: must be an absolute path")
  }

  func testMappingsWithoutUserNamespaceAreRejected() {
    var spec = validSpec()
    spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
    assertRejected(spec, "config.json: linux.uidMappings: mappings need a user namespace")
    spec.linux?.uidMappings = nil
    spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
    assertRejected(spec, "config.json: linux.gidMappings: mappings need a user namespace")
  }

  func testNewUserNamespaceWithoutMappingsIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.user))
    assertRejected(spec, "config.json: linux.uidMappings: missing", "linux.namespaces[6].path")
    spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
    assertRejected(spec, "config.json: linux.gidMappings: missing")
    spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  func testJoinedUserNamespaceWithoutMappingsIsAllowed() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.user, path: "/proc/1234/ns/user"))
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  func testZeroSizeMappingIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.user))
    spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100000, size: 65536)]
    spec.linux?.gidMappings = [
      IDMapping(containerID: 0, hostID: 100000, size: 1), .init(containerID: 1, hostID: 5, size: 0),
    ]
    assertRejected(spec, "config.json: linux.gidMappings[1].size: 0 is out of range 1...4294967291")
  }

  func testZeroSizeMountMappingIsRejected() {
    var spec = validSpec()
    spec.mounts?[0].uidMappings = [IDMapping(containerID: 0, hostID: 1, size: 0)]
    assertRejected(spec, "config.json: mounts[0].uidMappings[0].size: 0 is out of range 1...4294967295")
  }

  func testTimeOffsetsWithoutTimeNamespaceAreRejected() {
    var spec = validSpec()
    spec.linux?.timeOffsets = ["monotonic": TimeOffset(secs: 10)]
    assertRejected(spec, "config.json: linux.timeOffsets: offsets need a time namespace")
  }

  func testTimeOffsetForUnknownClockIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.append(LinuxNamespace(.time))
    spec.linux?.timeOffsets = ["monotonic": TimeOffset(secs: 10), "realtime": TimeOffset(secs: 1)]
    assertRejected(spec, "config.json: linux.timeOffsets: unknown clock \"realtime\"")
    spec.linux?.timeOffsets = ["monotonic": TimeOffset(secs: 10), "boottime": TimeOffset(nanosecs: 1)]
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  // MARK: propagation, sysctl

  func testUnknownRootfsPropagationIsRejected() {
    var spec = validSpec()
    spec.linux?.rootfsPropagation = "rprivat"
    assertRejected(spec, "config.json: linux.rootfsPropagation: unknown propagation \"rprivat\"")
    for mode in ["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"] {
      spec.linux?.rootfsPropagation = mode
      XCTAssertNoThrow(try permissiveValidator().validate(spec), mode)
    }
  }

  func testNamespacedSysctlsAreAccepted() {
    var spec = validSpec()
    spec.linux?.sysctl = [
      "kernel.msgmax": "8192", "kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "10",
      "net.ipv4.ip_forward": "1", "kernel.domainname": "example.org",
    ]
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  func testNonNamespacedSysctlIsRejected() {
    var spec = validSpec()
    spec.linux?.sysctl = ["kernel.panic": "1"]
    assertRejected(
      spec,
      "config.json: linux.sysctl: \"kernel.panic\" is not namespaced; only ipc, net and uts sysctls can be set in a container"
    )
  }

  func testNetSysctlWithoutNetworkNamespaceIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.removeAll { $0.type == "network" }
    spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
    assertRejected(spec, "config.json: linux.sysctl: \"net.ipv4.ip_forward\" needs a network namespace")
  }

  func testIPCSysctlWithoutIPCNamespaceIsRejected() {
    var spec = validSpec()
    spec.linux?.namespaces?.removeAll { $0.type == "ipc" }
    spec.linux?.sysctl = ["kernel.shmmax": "1"]
    assertRejected(spec, "config.json: linux.sysctl: \"kernel.shmmax\" needs a ipc namespace")
  }

  func testSysctlNamesWithSlashOrDotDotAreRejected() {
    var spec = validSpec()
    spec.linux?.sysctl = ["net/ipv4/ip_forward": "1"]
    assertRejected(spec, "config.json: linux.sysctl: \"net/ipv4/ip_forward\" is not a valid sysctl name")
    spec.linux?.sysctl = ["net.ipv4..conf": "1"]
    assertRejected(spec, "is not a valid sysctl name")
  }

  // MARK: hooks

  func testRelativeHookPathIsRejected() {
    var spec = validSpec()
    spec.hooks = Hooks(poststop: [Hook(path: "/bin/true"), Hook(path: "cleanup")])
    assertRejected(spec, "config.json: hooks.poststop[1].path: must be an absolute path, got \"cleanup\"")
  }

  func testNonPositiveHookTimeoutIsRejected() {
    var spec = validSpec()
    spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/true", timeout: 0)])
    assertRejected(spec, "config.json: hooks.createRuntime[0].timeout: 0 is out of range 1...2147483647")
  }

  // MARK: devices, personality, paths

  func testUnknownDeviceTypeIsRejected() {
    var spec = validSpec()
    spec.linux?.devices = [LinuxDevice(type: "x", path: "/dev/x", major: 1, minor: 1)]
    assertRejected(spec, "config.json: linux.devices[0].type: unknown device type \"x\"")
  }

  func testRelativeDevicePathIsRejected() {
    var spec = validSpec()
    spec.linux?.devices = [LinuxDevice(type: "c", path: "dev/null", major: 1, minor: 3)]
    assertRejected(spec, "config.json: linux.devices[0].path: must be an absolute path")
  }

  func testCharDeviceWithoutMajorMinorIsRejectedButFifoIsFine() {
    var spec = validSpec()
    spec.linux?.devices = [LinuxDevice(type: "p", path: "/dev/fifo"), LinuxDevice(type: "c", path: "/dev/null")]
    assertRejected(spec, "config.json: linux.devices[1].major: required for a \"c\" device")
    spec.linux?.devices = [LinuxDevice(type: "b", path: "/dev/sda", major: 8)]
    assertRejected(spec, "config.json: linux.devices[0].minor: required")
  }

  func testUnknownPersonalityDomainIsRejected() {
    var spec = validSpec()
    spec.linux?.personality = LinuxPersonality(domain: "LINUX64")
    assertRejected(spec, "config.json: linux.personality.domain: unknown domain \"LINUX64\"")
    spec.linux?.personality = LinuxPersonality(domain: "LINUX32")
    XCTAssertNoThrow(try permissiveValidator().validate(spec))
  }

  func testRelativeMaskedAndReadonlyPathsAreRejected() {
    var spec = validSpec()
    spec.linux?.maskedPaths?.append("proc/kcore")
    assertRejected(spec, "config.json: linux.maskedPaths[11]: must be an absolute path")
    spec = validSpec()
    spec.linux?.readonlyPaths = ["/proc/sys", "sys"]
    assertRejected(spec, "config.json: linux.readonlyPaths[1]: must be an absolute path")
  }

  // MARK: seccomp

  func testUnknownSeccompActionAndOperatorAreRejected() {
    var spec = validSpec()
    spec.linux?.seccomp = LinuxSeccomp(defaultAction: "SCMP_ACT_NOPE")
    assertRejected(spec, "config.json: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"")
    spec.linux?.seccomp = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [LinuxSyscall(names: ["ptrace"], action: "SCMP_ACT_ERRNO", args: [.init(index: 0, value: 1, op: "EQ")])]
    )
    assertRejected(spec, "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator \"EQ\"")
  }

  func testSeccompNotifyNeedsAListener() {
    var spec = validSpec()
    spec.linux?.seccomp = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ALLOW", syscalls: [LinuxSyscall(names: ["mount"], action: "SCMP_ACT_NOTIFY")])
    assertRejected(spec, "config.json: linux.seccomp.listenerPath: missing")
  }

  // MARK: messages

  func testCustomFileNameIsUsedAsPrefix() {
    var validator = permissiveValidator()
    validator.file = "/b/config.json"
    var spec = validSpec()
    spec.process?.cwd = "x"
    XCTAssertThrowsError(try validator.validate(spec)) { error in
      XCTAssertTrue((error as? OCIError)?.message.hasPrefix("/b/config.json: process.cwd:") ?? false)
    }
  }
}
