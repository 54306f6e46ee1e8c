import CShims
import CellaOCI
import CellaSys
import Glibc

/// The idmapping an `idmap`/`ridmap` bind mount asks for.
package struct IdmapRequest: Sendable, Equatable {
  package enum Source: Sendable, Equatable {
    /// uid_map and gid_map lines, for a user namespace the runtime makes only to hold them.
    case maps(uid: String, gid: String)
    /// The user namespace the container joins.
    case path(String)
  }
  package var source: Source
  /// `ridmap`: every mount of the bound tree is idmapped, not only its top.
  package var recursive: Bool
  /// For errors: "config.json: mounts[3]".
  package var field: String

  /// The request of mount `m`, nil without idmap. Mappings without the idmap option idmap the bind
  /// itself, not its submounts, as crun does (podman strips the option and sends only the mappings).
  init?(_ m: Mount, options: MountOptions, field: String, plan: InitPlan) throws(RuntimeError) {
    let uid = m.uidMappings.flatMap { $0.isEmpty ? nil : $0 }
    let gid = m.gidMappings.flatMap { $0.isEmpty ? nil : $0 }
    guard options.isIdmap || uid != nil || gid != nil else { return nil }
    guard options.isBind else {
      throw RuntimeError(
        "\(field).\(uid != nil ? "uidMappings" : "gidMappings"): needs a bind mount (cella idmaps bind mounts only)",
        kind: .invalidArgument)
    }
    self.field = field
    self.recursive = options.isIdmapRecursive
    if uid != nil || gid != nil {
      guard let uid else {
        throw RuntimeError("\(field).uidMappings: required with gidMappings", kind: .invalidArgument)
      }
      guard let gid else {
        throw RuntimeError("\(field).gidMappings: required with uidMappings", kind: .invalidArgument)
      }
      func lines(_ maps: [IDMapping]) -> String {
        maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
      }
      source = .maps(uid: lines(uid), gid: lines(gid))
    } else if let join = plan.joins.first(where: { $0.kind == .user }) {
      source = .path(join.path)
    } else if plan.newUserNamespace {
      source = .maps(uid: plan.uidMap, gid: plan.gidMap)
    } else {
      let options = m.options ?? []
      let j = options.firstIndex { $0 == "idmap" || $0 == "ridmap" } ?? 0
      let name = options.indices.contains(j) ? options[j] : "idmap"
      throw RuntimeError(
        "\(field).options[\(j)]: \"\(name)\" needs the mount's uidMappings and gidMappings, or a user namespace for the container",
        kind: .invalidArgument
      )
    }
  }
}
