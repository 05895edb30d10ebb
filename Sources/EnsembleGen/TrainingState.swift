import Climate
import Foundation
import Tensor

/// The resumable state of a training run, `<model>.training-state`: the model's checkpoint
/// contents plus optimiser (and EMA) tensors, the run's fingerprint (`RunFingerprint`, as
/// JSON) and the position (epoch, step) to continue from.
struct TrainingState {
    var tensors: [String: Tensor]
    var metadata: [String: String]
    var epoch: Int
    var step: Int

    static func path(for model: String) -> String { model + ".training-state" }

    /// Reads the state; fails when it is missing, was written before the fingerprint had named
    /// fields, or belongs to a run with other options (naming each one that differs).
    static func read(_ path: String, fingerprint: RunFingerprint) throws -> TrainingState {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EnsembleGenError("\(path): no training state to resume (a completed run removes it; start without --resume)")
        }
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        guard let json = metadata["training.run"],
              let saved = try? JSONDecoder().decode(RunFingerprint.self, from: Data(json.utf8)) else {
            throw EnsembleGenError("\(path): the training state was written by an earlier version of ensemblegen and cannot be resumed; start again without --resume")
        }
        guard saved == fingerprint else {
            throw EnsembleGenError("\(path): --resume: the saved run differs in \(fingerprint.differences(from: saved)); resume with the same options")
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
                      fingerprint: RunFingerprint, epoch: Int, step: Int, to path: String) throws {
        var tensors = contents.tensors, metadata = contents.metadata
        for set in extra { tensors.merge(set) { a, _ in a } }
        metadata["training.run"] = String(decoding: try JSONEncoder().encode(fingerprint), as: UTF8.self)
        metadata["training.epoch"] = "\(epoch)"
        metadata["training.step"] = "\(step)"
        try SafeTensors.write(tensors, metadata: metadata, to: URL(fileURLWithPath: path))
    }
}
