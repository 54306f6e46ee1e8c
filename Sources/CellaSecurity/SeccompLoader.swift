import CShims
import CellaErrors
import Glibc

/// Installs a compiled filter; the only seccomp code that runs in the container's init.
public enum SeccompLoader {
  /// Loads compiled BPF into the calling thread/process (call in the container's init just before exec). Returns the notify listener fd when needsListener, else -1.
  public static func load(_ compiled: CompiledSeccomp) throws(SeccompError) -> Int32 {
    var flags = compiled.flags
    if compiled.needsListener { flags |= SeccompTables.FilterFlag.newListener }
    // No libseccomp here: the init may run in a rootfs without it, and a plain
    // syscall cannot allocate or touch files after the filter is in place.
    let rc = compiled.bpf.withUnsafeBytes { cella_seccomp_load($0.baseAddress, $0.count, flags) }
    if rc < 0 {
      let code = errno
      var hint = ""
      switch code {
      case EACCES: hint = "; set process.noNewPrivileges or keep CAP_SYS_ADMIN until the filter is loaded"
      case EINVAL: hint = "; the kernel rejected the program or flags 0x\(String(flags, radix: 16))"
      case EBUSY: hint = "; a listener already exists for this process"
      default: break
      }
      throw SeccompError("seccomp: loading the filter: \(ErrorText.errno(code))\(hint)")
    }
    return compiled.needsListener ? rc : -1
  }
}
