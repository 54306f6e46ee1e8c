import CellaOCI

/// Encodes the OCI state for hooks.
package func stateJSON(_ state: ContainerState) throws(RuntimeError) -> String {
  String(decoding: state.ociStateJSON(), as: UTF8.self)
}
