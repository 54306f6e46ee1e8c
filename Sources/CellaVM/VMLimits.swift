/// The bounds a VM description must keep; the host's own memory and CPUs are checked by the manager.
public enum VMLimits {
  /// 1 TiB: anything above is a unit mistake, not a guest.
  public static let maxMemoryMiB = 1 << 20
  /// QEMU's x86 `-smp` accepts more, but the guests cella runs need far fewer.
  public static let maxVCPUs = 255
  /// x86 Linux's COMMAND_LINE_SIZE is 2048 bytes with the terminating NUL.
  public static let maxCmdlineBytes = 2047
  /// sun_path holds 108 bytes with the terminating NUL.
  public static let maxSocketPathBytes = 107
  /// microvm creates one ISA serial port; pc and q35 four.
  public static func maxSerialPorts(_ machine: VMMachine) -> Int { machine == .microvm ? 1 : 4 }
}
