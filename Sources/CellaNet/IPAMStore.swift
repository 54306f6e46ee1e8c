import CellaSys
import Glibc

/// How a NIC asks for its address.
public enum IPAMRequest: Sendable, Equatable {
  /// The lowest free host address.
  case auto
  /// Exactly this address, refused if another owner holds it.
  case `static`(IPv4Address)
}

/// One recorded address, who holds it, and the MAC it is leased to (DHCP's static lease).
public struct IPAMLease: Sendable, Equatable {
  public let address: IPv4Address
  public let owner: String
  /// The holder's MAC, when it was given: what a network's static DHCP leases are written from, without
  /// reading every guest's configuration.
  public var mac: MACAddress? = nil
}

/// The addresses handed out on one network, recorded in a file so that they survive restarts, and
/// allocated under an exclusive flock so that threads and processes never hand out one address twice.
///
/// The file `<directory>/<network>.addresses` holds one line `ADDRESS OWNER [MAC]` per lease, sorted by
/// address. A line format rather than JSON: CellaNet has no Foundation, the content is a flat list of
/// pairs, and an admin can read it with `cat`. Owners are opaque to CellaNet (the manager passes e.g.
/// `web/0` for NIC 0 of guest web) and may not contain white space. Each change is written to a temp
/// file, fsynced and renamed over the old one, so a crash leaves either the old or the new list. The
/// lock is on a separate file (`<network>.lock`), which the rename never replaces.
public struct IPAMStore: Sendable {
  /// The directory holding the files.
  public let directory: String
  /// The network's name, the stem of its file names.
  public let network: String
  /// The network's range.
  public let subnet: IPv4Subnet
  /// The network's gateway, never handed to a guest.
  public let gateway: IPv4Address

  /// The store of `network` in `directory` (which must exist); refuses a name unfit for a file name.
  public init(directory: String, network: String, subnet: IPv4Subnet, gateway: IPv4Address) throws(NetError) {
    guard !network.isEmpty, network.count <= 200, network.first != ".",
      network.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
    else {
      throw NetError(.invalidArgument, "IPAM network name \"\(network)\": letters, digits, '.', '_' and '-' only")
    }
    try subnet.checkGateway(gateway)
    self.directory = directory
    self.network = network
    self.subnet = subnet
    self.gateway = gateway
  }

  var path: String { "\(directory)/\(network).addresses" }
  var lockPath: String { "\(directory)/\(network).lock" }

  /// Records an address for `owner` and returns it. An owner that holds an address gets it again
  /// (for `.auto` or the same static address); a static address must be a free guest address of the subnet.
  /// A `mac` is recorded with the lease (and replaces the one an existing lease has).
  public func allocate(owner: String, _ request: IPAMRequest, mac: MACAddress? = nil) throws(NetError) -> IPv4Address {
    try Self.checkOwner(owner)
    if case .static(let address) = request {
      try subnet.checkGuestAddress(address, gateway: gateway)
    }
    return try locked { () throws(NetError) -> IPv4Address in
      var leases = try load()
      if let i = leases.firstIndex(where: { $0.owner == owner }) {
        let held = leases[i]
        if case .static(let address) = request, address != held.address {
          throw NetError(
            .alreadyExists,
            "\(owner) already holds \(held.address) on network \(network); release it before asking for \(address)")
        }
        if let mac, mac != held.mac {
          leases[i].mac = mac
          try save(leases)
        }
        return held.address
      }
      let address: IPv4Address
      switch request {
      case .static(let wanted):
        if let holder = leases.first(where: { $0.address == wanted }) {
          throw NetError(.alreadyExists, "address \(wanted) on network \(network) is taken by \(holder.owner)")
        }
        address = wanted
      case .auto:
        let taken = Set(leases.map(\.address.value))
        guard
          let free = (subnet.firstHost.value...subnet.lastHost.value).first(where: {
            $0 != gateway.value && !taken.contains($0)
          })
        else {
          throw NetError(
            .invalidState,
            "network \(network) (\(subnet)): no free address; all \(subnet.size - 3) guest addresses are taken")
        }
        address = IPv4Address(free)
      }
      leases.append(IPAMLease(address: address, owner: owner, mac: mac))
      try save(leases)
      return address
    }
  }

  /// Forgets `owner`'s address; nothing happens when it holds none.
  public func release(owner: String) throws(NetError) {
    try locked { () throws(NetError) in
      let leases = try load()
      let kept = leases.filter { $0.owner != owner }
      if kept.count != leases.count { try save(kept) }
    }
  }

  /// The address `owner` holds, if any.
  public func lookup(owner: String) throws(NetError) -> IPv4Address? {
    try locked { () throws(NetError) in try load().first(where: { $0.owner == owner })?.address }
  }

  /// Every lease, by address.
  public func leases() throws(NetError) -> [IPAMLease] {
    try locked { () throws(NetError) in try load() }
  }

  /// Removes the network's files (when the network is deleted).
  public func removeFiles() throws(NetError) {
    for p in [path, lockPath] where unlink(p) != 0 && errno != ENOENT {
      throw NetError("remove \(p)", errno: errno)
    }
  }

  static func checkOwner(_ owner: String) throws(NetError) {
    guard !owner.isEmpty, owner.utf8.count <= 255,
      owner.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f })
    else {
      throw NetError(
        .invalidArgument, "IPAM owner \"\(owner)\": must be 1-255 bytes without spaces or control characters")
    }
  }

  /// Runs `body` holding the network's exclusive lock. flock locks belong to the open file
  /// description, so each call opens the file anew and threads of one process exclude each other too.
  private func locked<T>(_ body: () throws(NetError) -> T) throws(NetError) -> T {
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(lockPath, flags: O_RDWR | O_CREAT, mode: 0o600)
    } catch {
      throw NetError(error.kind, "IPAM lock: \(error.message)")
    }
    while flock(fd.rawValue, LOCK_EX) != 0 {
      if errno != EINTR { throw NetError("flock \(lockPath)", errno: errno) }
    }
    // Closing the fd (at the end of the scope) releases the lock.
    return try body()
  }

  private func load() throws(NetError) -> [IPAMLease] {
    let text: String
    do {
      text = try FileIO.readString(path)
    } catch {
      if error.errno == ENOENT { return [] }
      throw NetError(error.kind, "IPAM: \(error.message)")
    }
    var leases: [IPAMLease] = []
    for (n, line) in text.split(separator: "\n").enumerated() {
      let f = line.split(separator: " ")
      guard f.count == 2 || f.count == 3, let address = IPv4Address(f[0]) else {
        // A line we cannot read might hold an address in use: refuse rather than hand it out again.
        throw NetError(.internal, "\(path):\(n + 1): not ADDRESS OWNER [MAC]: \"\(line)\"; fix or remove the line")
      }
      var mac: MACAddress?
      if f.count == 3 {
        guard let m = MACAddress(f[2]) else {
          throw NetError(.internal, "\(path):\(n + 1): \"\(f[2])\" is not a MAC address; fix or remove the line")
        }
        mac = m
      }
      leases.append(IPAMLease(address: address, owner: String(f[1]), mac: mac))
    }
    return leases
  }

  private func save(_ leases: [IPAMLease]) throws(NetError) {
    let text = leases.sorted { $0.address < $1.address }.map { lease in
      "\(lease.address) \(lease.owner)" + (lease.mac.map { " \($0)" } ?? "") + "\n"
    }.joined()
    do {
      try FileIO.writeAtomically(directory: directory, name: "\(network).addresses", Array(text.utf8), mode: 0o644)
    } catch {
      throw NetError(error.kind, "IPAM: \(error.message)")
    }
  }
}
