import Foundation
import Tensor

/// Thread settings shared by the training and generation commands.
public enum ComputeSettings {
    /// More threads than this is a typo, not a machine.
    public static let maximumThreads = 1024

    /// The ENSEMBLEGEN_THREADS environment variable, or nil when unset or empty.
    /// - Throws: `EnsembleGenError` when it is set to anything but a thread count.
    public static func environmentThreads() throws -> Int? {
        guard let text = ProcessInfo.processInfo.environment["ENSEMBLEGEN_THREADS"], !text.isEmpty else { return nil }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)), (1...maximumThreads).contains(n) else {
            throw EnsembleGenError("ENSEMBLEGEN_THREADS='\(text)' is not a thread count (1–\(maximumThreads)); set a number or unset it")
        }
        return n
    }

    /// Uses `threads` cores (OpenBLAS and the engine's own loops); nil → the
    /// ENSEMBLEGEN_THREADS environment variable, else every available core.
    public static func configure(threads: Int?) throws {
        if let threads, !(1...maximumThreads).contains(threads) {
            throw EnsembleGenError("\(threads) threads: use 1–\(maximumThreads)")
        }
        ComputeThreads.configure(try threads ?? environmentThreads() ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
