import CellaAPI

/// The keeper's files, named once in CellaAPI for the keeper and the daemon alike.
typealias Files = KeeperFiles
