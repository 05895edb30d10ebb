import Foundation
import Tensor

/// Thread settings shared by the training and generation commands.
public enum ComputeSettings {
    /// Uses `threads` cores (OpenBLAS and the engine's own loops); nil → the
    /// ENSEMBLEGEN_THREADS environment variable, else every available core.
    public static func configure(threads: Int?) {
        let fromEnvironment = ProcessInfo.processInfo.environment["ENSEMBLEGEN_THREADS"].flatMap(Int.init)
        ComputeThreads.configure(threads ?? fromEnvironment ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
