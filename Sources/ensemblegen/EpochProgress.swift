import EnsembleGen
import Foundation

/// Training progress on standard error: one bar per epoch, then the epoch's summary line.
final class EpochProgress {
    private let epochs: Int, unit: String, quiet: Bool
    private var bar: ProgressBar?
    private var epoch = -1

    init(epochs: Int, unit: String, quiet: Bool) {
        self.epochs = epochs
        self.unit = unit
        self.quiet = quiet
    }

    func step(_ step: Int, of steps: Int, epoch: Int, detail: String) {
        if epoch != self.epoch {
            bar?.finish()
            bar = ProgressBar("epoch \(epoch + 1)/\(epochs)", total: steps, unit: unit, quiet: quiet)
            self.epoch = epoch
        }
        bar?.update(step, detail: detail)
    }

    func epochEnded(_ summary: String) {
        bar?.finish()
        if !quiet { FileHandle.standardError.write(Data((summary + "\n").utf8)) }
    }
}

/// A progress bar whose total is learnt from the first report (pipelines that report
/// `(done, total)`), for members merged, reconstructed or measured.
final class CountProgress {
    private let label: String, unit: String, quiet: Bool
    private var bar: ProgressBar?

    init(_ label: String, unit: String = "members", quiet: Bool) {
        self.label = label
        self.unit = unit
        self.quiet = quiet
    }

    func update(_ done: Int, _ total: Int) {
        if bar == nil { bar = ProgressBar(label, total: total, unit: unit, quiet: quiet) }
        bar?.update(done)
    }

    func finish() { bar?.finish() }
}
