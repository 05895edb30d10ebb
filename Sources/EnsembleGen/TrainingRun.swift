import Foundation
import Tensor

/// The training loop `train-vae` and `train-diffusion` share: a fresh start or a resume from
/// the saved state, then per step the learning-rate schedule, the finite-loss check, gradient
/// clipping, AdamW and the optional EMA, with checkpoints and stopping early. What differs
/// (the model, its mini-batches, its validation) is passed in as closures. The order of
/// operations is fixed here once, so that a killed and resumed run of either model ends with
/// the weights of an uninterrupted one, bit for bit.
final class TrainingRun {
    struct Schedule {
        var epochs: Int
        var stepsPerEpoch: Int
        var learningRate: Float
        var warmupSteps: Int
        /// Mid-epoch checkpoints every this many steps (nil: at the end of epochs only).
        var checkpointInterval: Int?
        /// Testing aid: stop after this many optimiser steps in this run, as if killed.
        var stopAfterSteps: Int?
    }

    /// What one epoch did, for its report.
    struct EpochTally {
        var lossTotal = 0.0
        var steps = 0
        var samples = 0
        /// Seconds spent on the optimiser steps.
        var seconds = 0.0
        /// Mean loss of the steps (nil when the epoch was resumed at its end).
        var meanLoss: Double? { steps > 0 ? lossTotal / Double(steps) : nil }
    }

    /// Model contents written to the state and the model files.
    typealias Contents = (tensors: [String: Tensor], metadata: [String: String])

    let parameters: [Parameter]
    let optimizer: AdamW
    let ema: ExponentialMovingAverage?
    let fingerprint: RunFingerprint
    let statePath: String
    /// Where the loop starts: (0, 0), or the position the state was saved at.
    let start: (epoch: Int, step: Int)

    private init(parameters: [Parameter], learningRate: Float, emaDecay: Float?, fingerprint: RunFingerprint,
                 statePath: String, start: (epoch: Int, step: Int)) {
        self.parameters = parameters
        optimizer = AdamW(parameters: parameters, learningRate: learningRate)
        ema = emaDecay.map { ExponentialMovingAverage(parameters: parameters, decay: $0) }
        self.fingerprint = fingerprint
        self.statePath = statePath
        self.start = start
    }

    /// A fresh model from `fresh`, or, with `resume`, the model, optimiser and EMA of the state
    /// at `statePath`, refused when its fingerprint differs from `fingerprint`.
    static func begin<Model>(resume: Bool, statePath: String, fingerprint: RunFingerprint, learningRate: Float,
                             emaDecay: Float? = nil, parameters: (Model) -> [Parameter], fresh: () throws -> Model,
                             restore: (TrainingState) throws -> Model) throws -> (Model, TrainingRun) {
        guard resume else {
            let model = try fresh()
            return (model, TrainingRun(parameters: parameters(model), learningRate: learningRate, emaDecay: emaDecay,
                                       fingerprint: fingerprint, statePath: statePath, start: (0, 0)))
        }
        let state = try TrainingState.read(statePath, fingerprint: fingerprint)
        let model = try restore(state)
        let run = TrainingRun(parameters: parameters(model), learningRate: learningRate, emaDecay: emaDecay,
                              fingerprint: fingerprint, statePath: statePath, start: (state.epoch, state.step))
        try run.optimizer.restore(state.tensors)
        try run.ema?.restore(state.tensors)
        return (model, run)
    }

    /// Trains from `start` to the end of the schedule. `step(epoch, step)` fills the gradients
    /// of one mini-batch and returns its loss and size; `epochEnded` validates, reports and
    /// saves the model, after which the state is saved to continue with the next epoch.
    /// `checkpoint` gives the model's contents for the state, `saved` is told after each.
    /// Returns false when stopped by `stopAfterSteps`, the state saved to continue from.
    func train(_ schedule: Schedule, progress: ((Int, Int, Int, Double) -> Void)?,
               checkpoint: () throws -> Contents, saved: () -> Void = {},
               epochStarted: (_ epoch: Int) -> Void = { _ in },
               step: (_ epoch: Int, _ step: Int) throws -> (loss: Double, samples: Int),
               epochEnded: (_ epoch: Int, _ tally: EpochTally) throws -> Void) throws -> Bool {
        func saveState(epoch: Int, step: Int) throws {
            try TrainingState.write(try checkpoint(), extra: [optimizer.state] + (ema.map { [$0.state] } ?? []),
                                    fingerprint: fingerprint, epoch: epoch, step: step, to: statePath)
            saved()
        }
        let rates = LearningRateSchedule(peak: schedule.learningRate, floor: schedule.learningRate / 20,
                                         warmupSteps: schedule.warmupSteps, totalSteps: schedule.stepsPerEpoch * schedule.epochs)
        var stepsThisRun = 0
        for epoch in start.epoch..<schedule.epochs {
            let epochStart = Date()
            epochStarted(epoch)
            var tally = EpochTally()
            for s in (epoch == start.epoch ? start.step : 0)..<schedule.stepsPerEpoch {
                optimizer.learningRate = rates.rate(at: epoch * schedule.stepsPerEpoch + s)
                let (loss, samples) = try step(epoch, s)
                try TrainingState.requireFiniteLoss(loss, epoch: epoch, step: s)
                clipGradientNorm(parameters, maxNorm: 1)
                optimizer.update()
                ema?.update()
                tally.lossTotal += loss; tally.steps += 1; tally.samples += samples
                stepsThisRun += 1
                progress?(s + 1, schedule.stepsPerEpoch, epoch, tally.lossTotal / Double(tally.steps))
                if let interval = schedule.checkpointInterval, (s + 1) % interval == 0 && s + 1 < schedule.stepsPerEpoch {
                    try saveState(epoch: epoch, step: s + 1)
                }
                if let stop = schedule.stopAfterSteps, stepsThisRun >= stop {
                    try saveState(epoch: epoch, step: s + 1)
                    return false
                }
            }
            tally.seconds = Date().timeIntervalSince(epochStart)
            try epochEnded(epoch, tally)
            try saveState(epoch: epoch + 1, step: 0)
        }
        return true
    }

    /// Runs `body` with the EMA weights in the parameters (what the model file holds and what
    /// validation scores), the raw weights put back afterwards, also when `body` throws.
    func withAveragedWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard let ema else { return try body() }
        let raw = parameters.map { $0.value.copy() }
        for (p, shadow) in zip(parameters, ema.shadows) { p.value.assign(shadow) }
        defer { for (p, r) in zip(parameters, raw) { p.value.assign(r) } }
        return try body()
    }

    /// The run is complete and its model saved: the state is no longer needed.
    func finish() {
        try? FileManager.default.removeItem(atPath: statePath)
    }
}
