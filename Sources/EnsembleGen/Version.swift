/// The EnsembleGen release, written into every output file's `source` attribute.
public enum EnsembleGenVersion {
    public static let string = "0.1.0"
}
