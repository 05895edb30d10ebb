/// The EnsembleGen release and the git commit it was built from, written into every output
/// file's `source`/`history` attributes and printed by `ensemblegen --version`.
public enum EnsembleGenVersion {
    /// The release number.
    public static let number = "0.1.0"
    /// The short git commit of the sources (`-dirty` with uncommitted changes), or `unknown`
    /// when built outside a git checkout. Written at build time by the BuildCommit plugin.
    public static let commit = BuildCommit.commit
    /// `0.1.0 (commit 1a2b3c4d5e6f)`.
    public static let string = "\(number) (commit \(commit))"
}
