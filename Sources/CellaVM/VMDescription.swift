/// QEMU's machine type: `microvm` for fast direct-kernel Linux guests, `q35`/`pc` for full-OS disks.
public enum VMMachine: String, CaseIterable, Sendable, Equatable {
  case microvm, q35, pc
}

/// The accelerator already resolved by the probe (`auto` never reaches the builder).
public enum VMAccelerator: String, CaseIterable, Sendable, Equatable {
  case kvm, tcg
}

/// What the guest's real-time clock counts from.
public enum VMClock: String, CaseIterable, Sendable, Equatable {
  case utc, localtime
}

/// A disk image's format, always given to QEMU so that it never probes a guest-written header.
public enum VMDiskFormat: String, CaseIterable, Sendable, Equatable {
  case raw, qcow2
}

/// How the guest boots.
public enum VMBoot: Sendable, Equatable {
  /// Direct kernel boot: QEMU loads the kernel (and initrd) and passes the command line.
  case kernel(path: String, initrd: String?, cmdline: String)
  /// Firmware boot (SeaBIOS) from the VM's first disk.
  case firmware
}

/// One disk, attached as virtio-blk.
public struct VMDisk: Sendable, Equatable {
  public var path: String
  public var format: VMDiskFormat
  public var readOnly: Bool
  /// Writes are discarded when the VM stops (QEMU's `snapshot=on` for this drive).
  public var volatile: Bool
  /// The file opened by cella and passed in (QEMU opens it through its fd set); nil: QEMU opens `path`.
  public var fd: Int32?
  /// A read-only fd of the same file in the same fd set: QEMU opens a writable image read-only first (to
  /// probe it), and an fd set hands out only an fd of the access mode asked for.
  public var readOnlyFD: Int32?

  public init(
    path: String, format: VMDiskFormat, readOnly: Bool = false, volatile: Bool = false, fd: Int32? = nil,
    readOnlyFD: Int32? = nil
  ) {
    self.fd = fd
    self.readOnlyFD = readOnlyFD
    self.path = path
    self.format = format
    self.readOnly = readOnly
    self.volatile = volatile
  }
}

/// One virtio-net NIC on a tap that cella opened and passes to QEMU as an inherited fd.
public struct VMNIC: Sendable, Equatable {
  public var tapFD: Int32
  public var mac: String

  public init(tapFD: Int32, mac: String) {
    self.tapFD = tapFD
    self.mac = mac
  }
}

/// What serial port N (ttySN in the guest) is connected to.
public enum VMSerial: Sendable, Equatable {
  /// Not connected; keeps the numbering of the ports after it.
  case none
  /// The guest console on a unix socket the keeper listens on (QEMU connects at start, so no output is lost).
  case consoleSocket(path: String)
  /// The guest console on QEMU's stdin and stdout: the keeper's pty, when QEMU is a jailed guest process.
  case stdio
  /// The guest console on an already connected socket fd the keeper holds the other end of.
  case consoleFD(Int32)
  /// A host serial device opened read-write by cella and passed as an fd.
  case hostFD(Int32)
}

/// Everything QEMU's command line is built from; paths are as QEMU sees them.
public struct VMDescription: Sendable, Equatable {
  public var machine: VMMachine
  public var accelerator: VMAccelerator
  /// A QEMU CPU model name; nil for QEMU's default.
  public var cpu: String?
  public var vcpus: Int
  public var memoryMiB: Int
  public var boot: VMBoot
  public var disks: [VMDisk]
  public var nics: [VMNIC]
  /// Serial port N is element N.
  public var serials: [VMSerial]
  public var clock: VMClock
  /// The unix socket QEMU listens on for QMP.
  public var qmpSocket: String
  /// A unix socket QEMU connects to at start with a second QMP monitor, whose events tell how the guest
  /// ended (the keeper listens there); nil for none.
  public var eventsSocket: String?
  /// The unix sockets QEMU listens on for the guest agent: element K-1 is virtio-serial port
  /// `org.cella.agent.K` (`AgentProtocol.portName`). Empty for a guest without the agent.
  public var agentSockets: [String]

  public init(
    machine: VMMachine, accelerator: VMAccelerator, cpu: String? = nil, vcpus: Int = 1, memoryMiB: Int,
    boot: VMBoot, disks: [VMDisk] = [], nics: [VMNIC] = [], serials: [VMSerial] = [], clock: VMClock = .utc,
    qmpSocket: String, eventsSocket: String? = nil, agentSockets: [String] = []
  ) {
    self.eventsSocket = eventsSocket
    self.machine = machine
    self.accelerator = accelerator
    self.cpu = cpu
    self.vcpus = vcpus
    self.memoryMiB = memoryMiB
    self.boot = boot
    self.disks = disks
    self.nics = nics
    self.serials = serials
    self.clock = clock
    self.qmpSocket = qmpSocket
    self.agentSockets = agentSockets
  }
}

/// Parsing of the config keys' words (`vm.machine`, `vm.accel`, `clock`, a disk's format).
extension RawRepresentable where Self: CaseIterable, RawValue == String {
  /// The case named `word`, or an error naming `field` and the accepted words.
  public static func parse(_ word: String, field: String) throws(VMError) -> Self {
    if let value = Self(rawValue: word) { return value }
    let known = allCases.map(\.rawValue).joined(separator: ", ")
    throw VMError(.invalidArgument, "\(field): \(String(reflecting: word)) is not one of \(known)")
  }
}

/// `vm.accel` as configured: `auto` is resolved by `AccelProbe` at start.
public enum VMAccelSetting: String, CaseIterable, Sendable, Equatable {
  case auto, kvm, tcg
}
