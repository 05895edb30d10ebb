import Climate

/// Tests read fixtures as `info` does (any frequency, missing values kept) unless they
/// pass the requirements of the command they imitate.
extension EnsembleReader {
    convenience init(path: String, variable: String? = nil) throws {
        try self.init(paths: [path], variable: variable, requirements: .inspection)
    }

    convenience init(paths: [String], variable: String? = nil) throws {
        try self.init(paths: paths, variable: variable, requirements: .inspection)
    }

    static func read(paths: [String], variable: String? = nil) throws -> Ensemble {
        try read(paths: paths, variable: variable, requirements: .inspection)
    }
}
