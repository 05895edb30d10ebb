import Climate

/// Tests read fixtures as `info` does (any frequency, missing values kept) unless they
/// pass the requirements of the command they imitate.
extension EnsembleReader {
    public convenience init(path: String, variable: String? = nil) throws {
        try self.init(paths: [path], variable: variable, requirements: .inspection)
    }

    public convenience init(paths: [String], variable: String? = nil) throws {
        try self.init(paths: paths, variable: variable, requirements: .inspection)
    }

    public static func read(paths: [String], variable: String? = nil) throws -> Ensemble {
        try read(paths: paths, variable: variable, requirements: .inspection)
    }
}
