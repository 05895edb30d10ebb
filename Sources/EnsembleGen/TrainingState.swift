import Climate
import Foundation
import Tensor

/// The resumable state of a training run, `<model>.training-state`: the model's checkpoint
/// contents plus optimiser (and EMA) tensors, the run's fingerprint (data, members, seed,
/// schedule) and the position (epoch, step) to continue from.
struct TrainingState {
    var tensors: [String: Tensor]
    var metadata: [String: String]
    var epoch: Int
    var step: Int

    static func path(for model: String) -> String { model + ".training-state" }

    /// Reads the state; fails when it is missing or belongs to a run with other options.
    static func read(_ path: String, fingerprint: String) throws -> TrainingState {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CFError(file: path, "no training state to resume (a completed run removes it; start without --resume)")
        }
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        let saved = metadata["training.fingerprint"] ?? ""
        guard saved == fingerprint else {
            let before = saved.split(separator: "|").map(String.init), now = fingerprint.split(separator: "|").map(String.init)
            let onlySaved = before.filter { !now.contains($0) }, onlyNow = now.filter { !before.contains($0) }
            let hint = (onlySaved + onlyNow).contains("seasonal")
                ? " (runs started before seasonal scaling became the default need --no-seasonal-scaling)" : ""
            throw CFError(file: path, "the saved run used other data, members, seed, schedule or options (saved run: \(onlySaved.isEmpty ? "—" : onlySaved.joined(separator: ", ")); this command: \(onlyNow.isEmpty ? "—" : onlyNow.joined(separator: ", "))); resume with the same options\(hint)")
        }
        return TrainingState(tensors: tensors, metadata: metadata, epoch: Int(metadata["training.epoch"] ?? "") ?? 0,
                             step: Int(metadata["training.step"] ?? "") ?? 0)
    }

    /// Stops a run whose loss is no longer a number before the optimiser spreads it into the
    /// weights, so no NaN model is ever saved; what was saved before is kept.
    static func requireFiniteLoss(_ loss: Double, epoch: Int, step: Int) throws {
        guard loss.isFinite else {
            throw EnsembleGenError("training diverged: the loss is \(loss) at epoch \(epoch + 1), step \(step + 1); lower the learning rate (the files saved at earlier epochs are kept)")
        }
    }

    /// Writes model contents plus `extra` tensor sets (optimiser, EMA) at (epoch, step).
    static func write(_ contents: (tensors: [String: Tensor], metadata: [String: String]), extra: [[String: Tensor]],
                      fingerprint: String, epoch: Int, step: Int, to path: String) throws {
        var tensors = contents.tensors, metadata = contents.metadata
        for set in extra { tensors.merge(set) { a, _ in a } }
        metadata["training.fingerprint"] = fingerprint
        metadata["training.epoch"] = "\(epoch)"
        metadata["training.step"] = "\(step)"
        try SafeTensors.write(tensors, metadata: metadata, to: URL(fileURLWithPath: path))
    }
}
