import Climate
import Foundation
import Models
import Tensor
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// train-diffusion and generate on a small simulated ensemble (16x32, 3 years, 4 members).
final class DiffusionPipelineTests: TemporaryDirectoryTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        ComputeThreads.configure(1)
        _ = try SimulatePipeline.run(.init(memberCount: 4, startYear: 1990, endYear: 1992, latitudeCount: 16,
                                           longitudeCount: 32, seed: 3, output: path("ens.nc"), commandLine: ["test"]))
        _ = try VAETrainingPipeline.run(.init(data: [path("ens.nc")], trainingMembers: "0-2",
                                              configuration: VAEConfiguration(channels: [8, 16], latentChannels: 1, groups: 4),
                                              epochs: 1, batchSize: 8, samplesPerEpoch: 16, seed: 5, output: path("vae.safetensors")))
    }

    func options(_ kind: GeneratorKind, resume: Bool = false, stopAfter: Int? = nil) -> DiffusionTrainingPipeline.Options {
        .init(vae: path("vae.safetensors"), data: [path("ens.nc")], members: "0-2", validationMembers: "3", conditioningMember: 0,
              generator: kind, width: 16, layers: 1, contextMonths: 2, blockMonths: kind == .autoregressive ? 1 : 6,
              epochs: 2, stepsPerEpoch: 3, batchSize: 4, seed: 2, output: path("model-\(kind.rawValue)"),
              resume: resume, stopAfterSteps: stopAfter)
    }

    /// Trains with `configured` in full (moved to `full/`), then killed after 4 steps, refused
    /// on resume with `changed` options (the message naming `difference`), and resumed: the
    /// resumed model has the full run's weights bit for bit. Returns both models.
    func assertResumeEqualsUninterrupted(_ kind: GeneratorKind, _ configure: (inout DiffusionTrainingPipeline.Options) -> Void,
                                         changed: (inout DiffusionTrainingPipeline.Options) -> Void, difference: String,
                                         file: StaticString = #filePath, line: UInt = #line) throws
        -> (full: LatentDiffusion, provenance: [String: String], resumed: LatentDiffusion) {
        func configured(resume: Bool = false, stopAfter: Int? = nil) -> DiffusionTrainingPipeline.Options {
            var o = options(kind, resume: resume, stopAfter: stopAfter)
            configure(&o)
            return o
        }
        let full = try DiffusionTrainingPipeline.run(configured())
        XCTAssertTrue(full.completed, file: file, line: line)
        XCTAssertNotNil(full.epochs.last?.validationLoss, file: file, line: line)
        try FileManager.default.moveItem(atPath: path("model-\(kind.rawValue)"), toPath: path("full"))
        XCTAssertFalse(try DiffusionTrainingPipeline.run(configured(stopAfter: 4)).completed, file: file, line: line)
        var other = configured(resume: true)
        changed(&other)
        XCTAssertThrowsError(try DiffusionTrainingPipeline.run(other), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(difference), "\($0)", file: file, line: line)
        }
        XCTAssertTrue(try DiffusionTrainingPipeline.run(configured(resume: true)).completed, file: file, line: line)
        let fileName = LatentDiffusion.fileName(kind)
        let (a, provenance) = try LatentDiffusion.load(path("full/\(fileName)"))
        let b = try LatentDiffusion.load(path("model-\(kind.rawValue)/\(fileName)")).model
        for (p, q) in zip(a.generator.parameters, b.generator.parameters) {
            XCTAssertEqual(p.value.values.map(\.bitPattern), q.value.values.map(\.bitPattern), p.name, file: file, line: line)
        }
        return (a, provenance, b)
    }

    /// A transformer on whitened AR(2) innovations of seasonally scaled residuals given both
    /// conditioning forms, killed after 4 steps and resumed, ends with the weights of an
    /// uninterrupted run (a resume with other options is refused, naming them); its checkpoint
    /// keeps the seasonal scale, the filter, the whitening and the conditioning form, and it
    /// generates finite members.
    func testResumedTrainingEqualsUninterruptedTraining() throws {
        let (a, _, b) = try assertResumeEqualsUninterrupted(.transformer, {
            $0.innovationOrder = 2; $0.whitened = true; $0.whiteningFloor = 1; $0.conditioningForm = .both
        }, changed: { $0.seasonalScaling = false }, difference: "differs in seasonal scaling (saved yes, now no);")
        XCTAssertEqual(a.statistics, b.statistics)
        XCTAssertEqual(a.statistics.residualSeasonalScale?.count, 12 * a.configuration.latentDimension)
        XCTAssertTrue(a.statistics.isWhitened)
        XCTAssertEqual(a.statistics.innovationOrder, 2)
        XCTAssertEqual(a.statistics.conditioningForm, .both)
        XCTAssertEqual(a.configuration.conditioningForms, 2)
        // `ensemblegen info DIRECTORY` describes what the model learns and how it was trained.
        let info = try ModelInfo.describe(directory: path("full"))
        for part in ["vae             channels 8, 16", "transformer width 16, 1 blocks",
                     "seasonal scaling, AR(2) innovations, whitened, conditioning both", "epochs 2, steps per epoch 3, batch 4",
                     "spread calibration: none"] {
            XCTAssertTrue(info.contains(part), "missing \(part) in\n\(info)")
        }
        XCTAssertThrowsError(try ModelInfo.describe(directory: path("nothing"))) {
            XCTAssertTrue("\($0)".contains("holds no model files"), "\($0)")
        }

        let generated = try GeneratePipeline.run(.init(model: path("full"), generator: .transformer, memberCount: 2,
                                                       sampler: .ddim(steps: 3), seed: 4, output: path("gen.nc"),
                                                       commandLine: ["test"]))
        XCTAssertEqual(generated.members.count, 2)
        let values = try EnsembleReader(path: path("gen.nc")).readMember(1)
        XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 > 150 && $0 < 350 }, "generated temperatures out of range")
    }

    /// Many conditioning members: an autoregressive run on pairs of members 0–2 (validated
    /// on member 3 against each of them), killed after 4 steps and resumed, ends with the
    /// weights of an uninterrupted run; the model records its conditioning members and the
    /// first as its own conditioning series; a conditioning member outside the training
    /// members, or the list beside a changed resume, is refused.
    func testManyConditioningMembersTrainAndResume() throws {
        func pairs(_ o: inout DiffusionTrainingPipeline.Options) {
            o.conditioningMembers = "0-2"; o.innovationOrder = 2; o.whitened = true; o.conditioningForm = .both
        }
        let (_, provenance, _) = try assertResumeEqualsUninterrupted(.autoregressive, pairs,
                                                                     changed: { $0.conditioningMembers = nil },
                                                                     difference: "conditioning members (saved 0,1,2, now none)")
        XCTAssertEqual(provenance["conditioning_members"], "0-2")
        XCTAssertEqual(provenance["training_members"], "0-2")
        XCTAssertEqual(try ConditioningSeries.load(path("full/conditioning.safetensors")).member, "0")

        var outside = options(.autoregressive)
        pairs(&outside)
        outside.conditioningMembers = "0,3"; outside.output = path("outside")
        XCTAssertThrowsError(try DiffusionTrainingPipeline.run(outside)) {
            XCTAssertTrue("\($0)".contains("conditioning member 3 is not a training member"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("outside")))
    }

    /// The pairs the latent statistics are fitted on: as many as the targets, every
    /// conditioning member in them, never a member with itself; one conditioning member
    /// keeps every target.
    func testStatisticsPairsCoverTheMembers() throws {
        let many = try TrainingPairs(conditioningMember: 0, conditioningMembers: "0-9", training: Array(0..<10), validation: [10],
                                     memberCount: 11, file: "f")
        let pairs = many.statisticsPairs(perMember: 1)
        XCTAssertEqual(pairs.count, 10)
        XCTAssertTrue(pairs.allSatisfy { $0.conditioning != $0.target })
        XCTAssertEqual(Set(pairs.map(\.conditioning)), Set(0..<10))
        XCTAssertEqual(Set(pairs.map(\.target)), Set(0..<10))
        let one = try TrainingPairs(conditioningMember: 4, conditioningMembers: nil, training: Array(0..<10), validation: [],
                                    memberCount: 11, file: "f")
        XCTAssertEqual(one.targets, [0, 1, 2, 3, 5, 6, 7, 8, 9])
        XCTAssertEqual(one.statisticsPairs(perMember: one.targets.count).map(\.target), one.targets)
        XCTAssertThrowsError(try TrainingPairs(conditioningMember: 10, conditioningMembers: nil, training: Array(0..<10), validation: [10],
                                               memberCount: 11, file: "f"))
    }

    /// The model file holds the EMA weights, not the raw ones: with a decay of 1 they stay the
    /// initial weights, so runs with other learning rates write the same model.
    func testModelFileHoldsTheAveragedWeights() throws {
        var models: [LatentDiffusion] = []
        for (name, rate) in [("slow", Float(1e-3)), ("fast", Float(1e-2))] {
            var o = options(.autoregressive)
            o.epochs = 1; o.emaDecay = 1; o.learningRate = rate; o.output = path(name)
            XCTAssertTrue(try DiffusionTrainingPipeline.run(o).completed)
            models.append(try LatentDiffusion.load(path("\(name)/diffusion-autoregressive.safetensors")).model)
        }
        for (p, q) in zip(models[0].generator.parameters, models[1].generator.parameters) {
            XCTAssertTrue(p.value.values.map(\.bitPattern) == q.value.values.map(\.bitPattern), "\(p.name) holds the raw weights")
        }
    }

    /// Member k is the same whether generated among 18 on 2 threads (two sampling groups of
    /// 9), with at most 3 held between sampling and writing, alone on 1 thread, as one of 2
    /// sampled one per core, or in a piece starting at member 6; the file is CF-valid and
    /// records seed, conditioning member and checkpoint digest; another grid is refused.
    func testGenerateIsReproducibleAndCFValid() throws {
        _ = try DiffusionTrainingPipeline.run(options(.autoregressive))
        let model = path("model-autoregressive")
        var common = GeneratePipeline.Options(model: model, generator: .autoregressive, memberCount: 18,
                                              sampler: .ddim(steps: 4, eta: 1), seed: 8, output: path("gen.nc"), commandLine: ["test"])
        let threads = ComputeThreads.count
        defer { ComputeThreads.configure(threads) }
        ComputeThreads.configure(2)
        _ = try GeneratePipeline.run(common)
        ComputeThreads.configure(1)
        var single = common
        single.memberCount = 1; single.firstMember = 17; single.batchSize = 1; single.output = path("gen2.nc")
        _ = try GeneratePipeline.run(single)
        let all = try EnsembleReader(path: path("gen.nc")), one = try EnsembleReader(path: path("gen2.nc"))
        XCTAssertEqual(all.memberCount, 18)
        XCTAssertEqual(all.timeCount, 36)
        XCTAssertEqual(one.members, ["17"])
        XCTAssertEqual(try all.readMember(17), try one.readMember(0))
        // A piece that starts off a multiple of the group size: the same members.
        var piece = common
        piece.memberCount = 4; piece.firstMember = 6; piece.output = path("gen4.nc")
        _ = try GeneratePipeline.run(piece)
        let four = try EnsembleReader(path: path("gen4.nc"))
        for m in 0..<4 { XCTAssertEqual(try all.readMember(6 + m), try four.readMember(m), "member \(6 + m)") }
        // Fewer members held between sampling and writing than a group: same members.
        ComputeThreads.configure(2)
        var tight = common
        tight.batchSize = 3; tight.output = path("gen3.nc")
        _ = try GeneratePipeline.run(tight)
        let three = try EnsembleReader(path: path("gen3.nc"))
        for m in [0, 9, 17] { XCTAssertEqual(try all.readMember(m), try three.readMember(m), "member \(m)") }
        // Two members on 2 threads: one sampling group per core.
        var pair = common
        pair.memberCount = 2; pair.firstMember = 8; pair.output = path("gen-pair.nc")
        _ = try GeneratePipeline.run(pair)
        let two = try EnsembleReader(path: path("gen-pair.nc"))
        for m in 0..<2 { XCTAssertEqual(try all.readMember(8 + m), try two.readMember(m), "member \(8 + m)") }
        common.memberCount = 3
        XCTAssertNotEqual(try all.readMember(0), try all.readMember(1))
        let check = try runCheckCF(path("gen.nc"))
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        let header = try runProcess(URL(fileURLWithPath: "/usr/bin/ncdump"), ["-h", path("gen.nc")]).stdout
        for attribute in [":seed = 8", ":conditioning_member = \"0\"", ":checkpoint_hash", ":generator = \"autoregressive\"",
                          ":spread_calibration = \"none\""] {
            XCTAssertTrue(header.contains(attribute), "missing \(attribute)")
        }

        // DPM-Solver++(2M): member 2 the same alone as among 3, other values than DDIM's, and named.
        var dpm = common
        dpm.sampler = .dpmSolver(steps: 3); dpm.output = path("dpm.nc")
        _ = try GeneratePipeline.run(dpm)
        dpm.memberCount = 1; dpm.firstMember = 2; dpm.output = path("dpm1.nc")
        _ = try GeneratePipeline.run(dpm)
        let dpmAll = try EnsembleReader(path: path("dpm.nc")), dpmOne = try EnsembleReader(path: path("dpm1.nc"))
        XCTAssertEqual(try dpmAll.readMember(2), try dpmOne.readMember(0))
        XCTAssertNotEqual(try dpmAll.readMember(2), try all.readMember(2))
        let dpmHeader = try runProcess(URL(fileURLWithPath: "/usr/bin/ncdump"), ["-h", path("dpm1.nc")]).stdout
        XCTAssertTrue(dpmHeader.contains(":sampler = \"DPM-Solver++(2M), 3 steps\""), dpmHeader)

        // Conditioning on another file on the same grid, for a sub-period.
        var other = common
        other.conditioning = path("ens.nc"); other.conditioningMember = 3; other.startYear = 1991; other.endYear = 1991
        other.output = path("gen3.nc")
        XCTAssertEqual(try GeneratePipeline.run(other).months, 12)

        _ = try SimulatePipeline.run(.init(memberCount: 1, startYear: 1990, endYear: 1990, latitudeCount: 8, longitudeCount: 16,
                                           output: path("coarse.nc"), commandLine: ["test"]))
        other.conditioning = path("coarse.nc"); other.conditioningMember = 0; other.startYear = nil; other.endYear = nil
        XCTAssertThrowsError(try GeneratePipeline.run(other)) { XCTAssertTrue("\($0)".contains("does not match the model's training grid"), "\($0)") }
        XCTAssertThrowsError(try GeneratePipeline.run(.init(model: model, generator: .transformer, memberCount: 1, output: path("x.nc")))) {
            XCTAssertTrue("\($0)".contains("has no diffusion-transformer.safetensors"), "\($0)")
        }
    }

    /// train-diffusion measures the VAE's unresolved variability on its training members (the
    /// same statistics as `fit-unresolved` on them); generate adds noise whose mean square is
    /// that of the stored standard deviations (2 members × 36 months × 512 cells, spatially
    /// correlated: n_eff ≥ n/3, relative standard error of the mean square ≤ √(6/n) = 1.3%;
    /// tolerance 5 standard errors), and without the file generates smooth members and says so.
    func testUnresolvedVariabilityIsFittedAndAdded() throws {
        _ = try DiffusionTrainingPipeline.run(options(.autoregressive))
        let model = path("model-autoregressive")
        let fittedPath = (model as NSString).appendingPathComponent(UnresolvedVariability.fileName)
        let fitted = try UnresolvedVariability.load(fittedPath)
        XCTAssertEqual(fitted.provenance["members"], "1-2")
        let refit = try UnresolvedVariabilityPipeline.run(.init(model: model, data: [path("ens.nc")], members: "1-2"))
        XCTAssertEqual(refit.statistics.standardDeviation, fitted.standardDeviation)
        XCTAssertEqual(refit.statistics.longitudeCorrelation, fitted.longitudeCorrelation)
        XCTAssertTrue(fitted.standardDeviation.allSatisfy { $0 > 0 && $0.isFinite })

        var with = GeneratePipeline.Options(model: model, generator: .autoregressive, memberCount: 2,
                                            sampler: .ddim(steps: 3), seed: 4, output: path("with.nc"), commandLine: ["test"])
        var without = with
        without.unresolvedVariability = false; without.output = path("without.nc")
        XCTAssertNil(try GeneratePipeline.run(with).note)
        _ = try GeneratePipeline.run(without)
        let a = try EnsembleReader(path: path("with.nc")), b = try EnsembleReader(path: path("without.nc"))
        let cells = a.grid.cellCount, months = a.time.monthsOfYear
        var squares = 0.0, expected = 0.0
        for m in 0..<2 {
            let x = try a.readMember(m), y = try b.readMember(m)
            for (t, month) in months.enumerated() {
                for c in 0..<cells {
                    let d = Double(x[t * cells + c] - y[t * cells + c]), s = Double(fitted.standardDeviation[(month - 1) * cells + c])
                    squares += d * d
                    expected += s * s
                }
            }
        }
        let n = Double(2 * months.count * cells)
        XCTAssertEqual(squares / expected, 1, accuracy: 5 * (6 / n).squareRoot())
        let header = try runProcess(URL(fileURLWithPath: "/usr/bin/ncdump"), ["-h", path("with.nc")]).stdout
        XCTAssertTrue(header.contains(":unresolved_variability = \"Gaussian noise"), header)

        var tooLong = options(.autoregressive)
        tooLong.innovationOrder = 18
        XCTAssertThrowsError(try DiffusionTrainingPipeline.run(tooLong)) {
            XCTAssertTrue("\($0)".contains("an innovation filter of order 18 needs a series of more than twice as many time steps; this one has 36"), "\($0)")
        }
        var badFloor = options(.autoregressive)
        badFloor.whitened = true
        badFloor.whiteningFloor = 0
        XCTAssertThrowsError(try DiffusionTrainingPipeline.run(badFloor)) {
            XCTAssertTrue("\($0)".contains("whitening floor 0.0: it must be a positive fraction of the mean eigenvalue"), "\($0)")
        }

        try FileManager.default.removeItem(atPath: fittedPath)
        with.output = path("smooth.nc")
        XCTAssertTrue(try GeneratePipeline.run(with).note?.contains("fit-unresolved") == true)
        XCTAssertEqual(try EnsembleReader(path: path("smooth.nc")).readMember(1), try b.readMember(1))
    }

    /// calibrate-spread on a trained model: the decoded members' grid-point spread moves
    /// towards the training members' with every update (this barely trained model's decoder
    /// hardly responds to its latents, so it does not get there; the shipped models do, see
    /// Docs/models.md); calibrating again with the same settings gives the
    /// same factors (the previous ones are not applied to the comparison); generate uses them,
    /// and says so when its sampler is not the calibration's; too few members and data of
    /// another period are refused.
    func testSpreadCalibrationMatchesTheTrainingMembers() throws {
        _ = try DiffusionTrainingPipeline.run(options(.autoregressive))
        let model = path("model-autoregressive")
        // This one-epoch VAE leaves most of the variance unresolved (more than the 3 training
        // members' spread in places), so calibrate the decoded members alone.
        try FileManager.default.removeItem(atPath: (model as NSString).appendingPathComponent(UnresolvedVariability.fileName))
        let calibrate = SpreadCalibrationPipeline.Options(model: model, generator: .autoregressive, data: [path("ens.nc")],
                                                          members: "0-2", generatedMembers: 6, sampler: .ddim(steps: 3), seed: 5,
                                                          iterations: 2, monthStride: 5)
        let first = try SpreadCalibrationPipeline.run(calibrate)
        let diffusion = try LatentDiffusion.load(first.path).model
        let calibration = try XCTUnwrap(diffusion.spreadCalibration)
        XCTAssertEqual(calibration, first.calibration)
        XCTAssertEqual(calibration.generatedMembers, 6)
        XCTAssertEqual(calibration.referenceMembers, 3)
        XCTAssertEqual(calibration.scale.count, diffusion.configuration.latentDimension)
        XCTAssertTrue(calibration.scale.allSatisfy { $0 > 0 && $0.isFinite } && Set(calibration.scale).count > 1, "\(calibration.scale)")
        let ratios = calibration.spreadRatios
        XCTAssertEqual(ratios.count, 3)
        XCTAssertLessThan(abs(log(ratios[1])), abs(log(ratios[0])), "\(ratios)")
        XCTAssertLessThan(abs(log(ratios[2])), abs(log(ratios[1])), "\(ratios)")
        XCTAssertTrue(first.text.contains("from 6 generated and 3 training members"), first.text)
        XCTAssertTrue(try ModelInfo.describe(directory: model).contains("spread calibration: factors "), "info does not show it")
        XCTAssertEqual(try SpreadCalibrationPipeline.run(calibrate).calibration, calibration)

        // generate applies the factors: the same member differs from the uncalibrated model's.
        var generate = GeneratePipeline.Options(model: model, generator: .autoregressive, memberCount: 1, sampler: .ddim(steps: 3),
                                                seed: 4, output: path("calibrated.nc"), unresolvedVariability: false,
                                                commandLine: ["test"])
        XCTAssertNil(try GeneratePipeline.run(generate).note)
        let header = try runProcess(URL(fileURLWithPath: "/usr/bin/ncdump"), ["-h", path("calibrated.nc")]).stdout
        XCTAssertTrue(header.contains(":spread_calibration = \"factors ") && header.contains("× spread calibration factors"), header)
        generate.sampler = .ddim(steps: 4)
        generate.output = path("other-sampler.nc")
        XCTAssertTrue(try GeneratePipeline.run(generate).note?.contains("spread calibration was fitted with DDIM eta=0.0, 3 steps") == true)
        let unit = SpreadCalibration(scale: [Float](repeating: 1, count: calibration.scale.count), samplerSteps: 3, samplerEta: 0, generatedMembers: 6,
                                     referenceMembers: 3, seed: 5)
        try LatentDiffusion.store(unit, inCheckpoint: first.path)
        generate.sampler = .ddim(steps: 3)
        generate.output = path("uncalibrated.nc")
        _ = try GeneratePipeline.run(generate)
        XCTAssertTrue(try EnsembleReader(path: path("calibrated.nc")).readMember(0)
                      != EnsembleReader(path: path("uncalibrated.nc")).readMember(0), "the factors changed nothing")

        var one = calibrate
        one.members = "1"
        XCTAssertThrowsError(try SpreadCalibrationPipeline.run(one)) {
            XCTAssertTrue("\($0)".contains("the training members' spread needs at least 2 members, and '1' selects 1"), "\($0)")
        }
        _ = try SimulatePipeline.run(.init(memberCount: 2, startYear: 1990, endYear: 1991, latitudeCount: 16, longitudeCount: 32,
                                           seed: 3, output: path("short.nc"), commandLine: ["test"]))
        var short = calibrate
        short.data = [path("short.nc")]
        short.members = "0-1"
        XCTAssertThrowsError(try SpreadCalibrationPipeline.run(short)) {
            XCTAssertTrue("\($0)".contains("the data cover 1990–1991 (24 time steps) but the model's conditioning series 1990–1992 (36)"), "\($0)")
        }
    }
}
