import CellaOCI
import Foundation
import XCTest

final class SpecCodingTests: XCTestCase {
  static let fullConfig = #"""
    {
      "ociVersion": "1.3.0",
      "process": {
        "terminal": false,
        "consoleSize": {"height": 25, "width": 80},
        "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 6]},
        "args": ["/bin/server", "--port", "80"],
        "env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
        "cwd": "/srv",
        "capabilities": {
          "bounding": ["CAP_NET_BIND_SERVICE"], "effective": ["CAP_NET_BIND_SERVICE"],
          "inheritable": [], "permitted": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}],
        "apparmorProfile": "cella-default",
        "oomScoreAdj": -500,
        "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
        "noNewPrivileges": true,
        "scheduler": {"policy": "SCHED_BATCH", "nice": 5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
        "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
        "execCPUAffinity": {"initial": "0", "final": "1-3"}
      },
      "root": {"path": "rootfs", "readonly": true},
      "hostname": "web1",
      "domainname": "example.org",
      "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rprivate", "ro"],
         "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
         "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}
      ],
      "hooks": {
        "prestart": [{"path": "/usr/bin/netns-setup", "args": ["netns-setup", "up"], "env": ["A=1"], "timeout": 10}],
        "createRuntime": [{"path": "/usr/bin/hook"}],
        "createContainer": [{"path": "/usr/bin/hook"}],
        "startContainer": [{"path": "/usr/bin/hook"}],
        "poststart": [{"path": "/usr/bin/notify"}],
        "poststop": [{"path": "/usr/bin/cleanup", "timeout": 5}]
      },
      "annotations": {"org.example.key": "value", "b": "2"},
      "linux": {
        "namespaces": [
          {"type": "pid"}, {"type": "network", "path": "/var/run/netns/web1"}, {"type": "mount"},
          {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
        ],
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "timeOffsets": {"monotonic": {"secs": 3600, "nanosecs": 5}, "boottime": {"secs": -60}},
        "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
        "cgroupsPath": "/cella/web1",
        "resources": {
          "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
          "memory": {"limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": 0, "kernelTCP": 0,
                     "swappiness": 0, "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
          "cpu": {"shares": 1024, "quota": 50000, "burst": 10000, "period": 100000, "realtimeRuntime": 0,
                  "realtimePeriod": 0, "cpus": "0-3", "mems": "0", "idle": 0},
          "pids": {"limit": 512},
          "blockIO": {"weight": 500, "leafWeight": 300,
                      "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 300}],
                      "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 104857600}],
                      "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 52428800}],
                      "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                      "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 500}]},
          "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
          "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
          "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
          "unified": {"memory.high": "400000000", "io.weight": "default 100"}
        },
        "rootfsPropagation": "rslave",
        "seccomp": {
          "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
          "flags": ["SECCOMP_FILTER_FLAG_LOG"],
          "listenerPath": "/run/seccomp-agent.sock", "listenerMetadata": "web1",
          "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"},
            {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
          ]
        },
        "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "68719476736"},
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
        "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c124,c675",
        "personality": {"domain": "LINUX32", "flags": []},
        "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0", "memBwSchema": "MB:0=20",
                     "schemata": ["L2:0=ff"], "enableMonitoring": true},
        "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]},
        "netDevices": {"eth1": {"name": "lan0"}}
      }
    }
    """#

  func testFullConfigDecodesEverySection() throws {
    let spec = try SpecLoader.decode(Array(Self.fullConfig.utf8))
    XCTAssertEqual(spec.process?.user.additionalGids, [5, 6])
    XCTAssertEqual(spec.process?.ioPriority?.ioClass, "IOPRIO_CLASS_BE")
    XCTAssertEqual(spec.process?.execCPUAffinity?.final, "1-3")
    XCTAssertEqual(spec.mounts?[1].uidMappings?.first?.hostID, 100000)
    XCTAssertEqual(spec.hooks?.prestart?.first?.timeout, 10)
    XCTAssertEqual(spec.linux?.timeOffsets?["boottime"]?.secs, -60)
    XCTAssertEqual(spec.linux?.resources?.memory?.swap, -1)
    XCTAssertEqual(spec.linux?.resources?.blockIO?.throttleWriteIOPSDevice?.first?.rate, 500)
    XCTAssertEqual(spec.linux?.resources?.rdma?["mlx5_1"]?.hcaObjects, 10000)
    XCTAssertEqual(spec.linux?.resources?.unified?["io.weight"], "default 100")
    XCTAssertEqual(spec.linux?.seccomp?.syscalls?[1].args?[1].valueTwo, 8)
    XCTAssertEqual(spec.linux?.intelRdt?.schemata, ["L2:0=ff"])
    XCTAssertEqual(spec.linux?.memoryPolicy?.mode, "MPOL_INTERLEAVE")
    XCTAssertEqual(spec.linux?.netDevices?["eth1"]?.name, "lan0")
    XCTAssertEqual(spec.linux?.namespace(.network)?.path, "/var/run/netns/web1")
  }

  func testFullConfigRoundTripsAndValidates() throws {
    let spec = try SpecLoader.decode(Array(Self.fullConfig.utf8))
    let encoded = OCIJSON.encode(spec)
    let again = try SpecLoader.decode(encoded)
    XCTAssertEqual(again, spec)
    XCTAssertEqual(OCIJSON.encode(again), encoded, "encoding must be stable")
    // Labels, scheduling, RDT, memory policy and net devices are decoded and kept, but cella applies
    // none of them, so validation refuses them; the rest validates.
    var supported = spec
    supported.process?.apparmorProfile = nil
    supported.process?.selinuxLabel = nil
    supported.process?.scheduler = nil
    supported.process?.ioPriority = nil
    supported.process?.execCPUAffinity = nil
    supported.linux?.mountLabel = nil
    supported.linux?.intelRdt = nil
    supported.linux?.memoryPolicy = nil
    supported.linux?.netDevices = nil
    XCTAssertNoThrow(try permissiveValidator().validate(supported))
  }

  func testRoundTripMatchesFoundationsReading() throws {
    // Our encoder's output must mean the same JSON as the input to an independent parser.
    let spec = try SpecLoader.decode(Array(Self.fullConfig.utf8))
    let ours = try JSONSerialization.jsonObject(with: Data(OCIJSON.encode(spec))) as? NSDictionary
    let theirs = try JSONSerialization.jsonObject(with: Data(Self.fullConfig.utf8)) as? NSDictionary
    XCTAssertEqual(ours, theirs)
  }

  func testUnknownPropertiesAreIgnored() throws {
    let json = #"""
      {"ociVersion": "1.0.2-dev", "vm": {"hypervisor": {"path": "/x"}}, "future": [1, {"a": null}],
       "process": {"user": {"uid": 0, "gid": 0, "sid": "S-1"}, "cwd": "/", "args": ["sh"], "newField": true},
       "root": {"path": "rootfs", "extra": 1}, "windows": {"layerFolders": []}}
      """#
    let spec = try SpecLoader.decode(Array(json.utf8))
    XCTAssertEqual(spec.process?.args, ["sh"])
    XCTAssertEqual(spec.root?.path, "rootfs")
  }

  func testNilFieldsAreOmittedWhenEncoding() {
    let spec = Spec(ociVersion: "1.3.0", root: Root(path: "rootfs"))
    let text = String(decoding: OCIJSON.encode(spec, pretty: false, trailingNewline: false), as: UTF8.self)
    XCTAssertEqual(text, #"{"ociVersion":"1.3.0","root":{"path":"rootfs"}}"#)
  }

  func testNullForAnOptionalFieldReadsAsAbsent() throws {
    let json = #"{"ociVersion": "1.3.0", "hostname": null, "linux": {"namespaces": null}}"#
    let spec = try SpecLoader.decode(Array(json.utf8))
    XCTAssertNil(spec.hostname)
    XCTAssertNil(spec.linux?.namespaces)
  }

  func testDataOverloadDecodes() throws {
    let spec = try SpecLoader.decode(Array(#"{"ociVersion": "1.3.0"}"#.utf8))
    XCTAssertEqual(spec.ociVersion, "1.3.0")
  }

  // MARK: - Error messages

  func testMalformedJSONNamesLineAndColumn() {
    let json = "{\n  \"ociVersion\": \"1.3.0\",\n  \"root\" {\"path\": \"rootfs\"}\n}"
    assertDecodeFails(json, "config.json: malformed JSON at line 3, column 10", "expected ':'")
  }

  func testTruncatedAndTrailingGarbageAreMalformed() {
    assertDecodeFails("{\"ociVersion\": \"1.3.0\"", "malformed JSON at line 1", "end of input")
    assertDecodeFails("{\"ociVersion\": \"1.3.0\"} x", "malformed JSON at line 1, column 25")
    assertDecodeFails("", "malformed JSON", "empty")
    assertDecodeFails("{\"a\": [1, 2,]}", "malformed JSON", "line", "column")
    assertDecodeFails("{\"a\": 01}", "malformed JSON", "leading zeros")
  }

  func testWrongTypeNamesTheFieldPath() {
    let json = #"{"ociVersion": "1.3.0", "process": {"user": {"uid": "root", "gid": 0}, "cwd": "/"}}"#
    assertDecodeFails(json, "config.json: process.user.uid: expected a number, found a string")
  }

  func testWrongTypeInsideAnArrayNamesTheIndex() {
    let json = #"{"ociVersion": "1.3.0", "linux": {"namespaces": [{"type": "pid"}, {"type": 7}]}}"#
    assertDecodeFails(json, "config.json: linux.namespaces[1].type: expected a string, found a number")
  }

  func testMissingRequiredFieldNamesIt() {
    let json = #"{"ociVersion": "1.3.0", "process": {"user": {"gid": 0}, "cwd": "/"}}"#
    assertDecodeFails(json, "config.json: process.user.uid: required field is missing")
  }

  func testMissingProcessUserIsReported() {
    let json = #"{"ociVersion": "1.3.0", "process": {"args": ["sh"], "cwd": "/"}}"#
    assertDecodeFails(json, "config.json: process.user: required field is missing")
  }

  func testOutOfRangeNumberNamesTheFieldAndRange() {
    let json = #"{"ociVersion": "1.3.0", "process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"}}"#
    assertDecodeFails(json, "config.json: process.user.uid: -1 is out of range 0...4294967295")
    let frac = #"{"ociVersion": "1.3.0", "process": {"user": {"uid": 1.5, "gid": 0}, "cwd": "/"}}"#
    assertDecodeFails(frac, "process.user.uid: expected a whole number, found 1.5")
  }

  func testDictionaryKeysWithDotsAreQuotedInPaths() {
    let json = #"{"ociVersion": "1.3.0", "linux": {"sysctl": {"net.ipv4.ip_forward": 1}}}"#
    assertDecodeFails(json, #"config.json: linux.sysctl["net.ipv4.ip_forward"]: expected a string, found a number"#)
  }

  func testExponentNumbersThatAreWholeDecode() throws {
    let json = #"{"ociVersion": "1.3.0", "linux": {"resources": {"memory": {"limit": 1e9}}}}"#
    XCTAssertEqual(try SpecLoader.decode(Array(json.utf8)).linux?.resources?.memory?.limit, 1_000_000_000)
  }

  func testEscapesAndUnicodeInStrings() throws {
    let json = #"{"ociVersion": "1.3.0", "hostname": "a\"b\\c\u00e9\ud83d\ude00\/"}"#
    XCTAssertEqual(try SpecLoader.decode(Array(json.utf8)).hostname, "a\"b\\cé😀/")
    let spec = Spec(hostname: "tab\there\u{1}")
    let again = try SpecLoader.decode(OCIJSON.encode(spec))
    XCTAssertEqual(again.hostname, "tab\there\u{1}")
  }

  // MARK: - Default spec and features

  func testDefaultSpecValidatesInATempBundle() throws {
    let bundle = try TempBundle()
    let spec = DefaultSpec.make()
    XCTAssertNoThrow(try SpecValidator(bundle: bundle.path, hostHasPath: hostExists).validate(spec))
    try bundle.write(config: String(decoding: DefaultSpec.encode(spec), as: UTF8.self))
    let loaded = try SpecLoader.decode(DefaultSpec.encode(spec))
    XCTAssertEqual(loaded, spec)
    XCTAssertNoThrow(try SpecValidator(bundle: bundle.path, hostHasPath: hostExists).validate(loaded))
  }

  func testDefaultSpecLooksLikeRuncSpec() {
    let spec = DefaultSpec.make()
    XCTAssertEqual(spec.ociVersion, "1.3.0")
    XCTAssertEqual(spec.process?.terminal, true)
    XCTAssertEqual(spec.process?.args, ["sh"])
    XCTAssertEqual(spec.process?.rlimits, [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
    XCTAssertEqual(spec.process?.capabilities?.bounding, ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    XCTAssertEqual(spec.root, Root(path: "rootfs", readonly: true))
    XCTAssertEqual(spec.hostname, "cella")
    XCTAssertEqual(
      spec.mounts?.map(\.destination),
      ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
    XCTAssertEqual(spec.linux?.namespaces?.map(\.type), ["pid", "network", "ipc", "uts", "mount", "cgroup"])
    XCTAssertEqual(spec.linux?.maskedPaths?.count, 11)
    XCTAssertEqual(spec.linux?.readonlyPaths?.count, 5)
    let custom = DefaultSpec.make(rootfs: "/r", args: ["/bin/true"], terminal: false)
    XCTAssertEqual(custom.process?.terminal, false)
    XCTAssertEqual(custom.root?.path, "/r")
  }

  func testDefaultSpecEncodingIsPrettyOrderedAndEndsWithNewline() {
    let text = String(decoding: DefaultSpec.encode(DefaultSpec.make()), as: UTF8.self)
    XCTAssertTrue(text.hasPrefix("{\n  \"ociVersion\": \"1.3.0\",\n  \"process\": {\n    \"terminal\": true,"), text)
    XCTAssertTrue(text.hasSuffix("}\n"))
    XCTAssertFalse(text.hasSuffix("}\n\n"))
    XCTAssertTrue(text.contains("\"destination\": \"/proc\""), "slashes must not be escaped")
  }

  func testFeaturesRoundTrip() throws {
    let features = Features(
      ociVersionMin: OCIVersion.minimum, ociVersionMax: OCIVersion.maximumConcrete,
      hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
      mountOptions: MountOptions.supportedOptions,
      linux: Features.Linux(
        namespaces: NamespaceKind.allCases.map(\.rawValue), capabilities: ["CAP_CHOWN"],
        cgroup: Features.Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: true),
        seccomp: Features.Seccomp(
          enabled: true, actions: ["SCMP_ACT_ALLOW"], operators: ["SCMP_CMP_EQ"], archs: ["SCMP_ARCH_X86_64"],
          knownFlags: ["SECCOMP_FILTER_FLAG_LOG"], supportedFlags: ["SECCOMP_FILTER_FLAG_LOG"]),
        apparmor: Features.Enabled(enabled: false), selinux: Features.Enabled(enabled: false),
        intelRdt: Features.IntelRdt(enabled: false),
        mountExtensions: Features.MountExtensions(idmap: Features.Enabled(enabled: true))),
      annotations: ["org.cella.version": "0.1"])
    let bytes = OCIJSON.encode(features)
    XCTAssertEqual(try OCIJSON.decode(Features.self, from: bytes, file: "features.json"), features)
    XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains("\"idmap\": {\n"))
  }
}
