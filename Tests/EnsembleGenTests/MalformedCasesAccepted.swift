import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bad options (refused up front) and unusual but valid inputs (must work).
enum OptionCases {
    static let ens = CorpusFile.field("ens.nc")

    static let all: [MalformedCase] = [
        MalformedCase(name: "generate-threads-zero", arguments: Cmd.generate(output: "{d}/gen.nc", ["--threads", "0"]),
                      expectation: .invalidOption(["--threads"])),
        MalformedCase(name: "train-vae-threads-negative", arguments: Cmd.trainVAE(["{d}/ens.nc"], ["--threads=-2"]),
                      files: [ens], expectation: .invalidOption(["--threads"])),
        MalformedCase(name: "reconstruct-threads-environment-abc", arguments: Cmd.reconstruct("{d}/ens.nc"),
                      files: [ens], expectation: .refusedOption(["ENSEMBLEGEN_THREADS"]),
                      environment: ["ENSEMBLEGEN_THREADS": "abc"]),
        MalformedCase(name: "generate-eta-nan", arguments: Cmd.generate(["--eta", "nan"]), expectation: .invalidOption(["--eta"])),
        MalformedCase(name: "train-vae-learning-rate-nan", arguments: Cmd.trainVAE(["{d}/ens.nc"], ["--learning-rate", "nan"]),
                      files: [ens], expectation: .invalidOption(["--learning-rate"])),
        MalformedCase(name: "train-diffusion-learning-rate-nan", arguments: Cmd.trainDiffusion(["{d}/ens.nc"], ["--learning-rate", "nan"]),
                      files: [ens], expectation: .invalidOption(["--learning-rate"])),
        MalformedCase(name: "train-vae-checkpoint-interval-zero",
                      arguments: Cmd.trainVAE(["{d}/ens.nc"], ["--checkpoint-interval", "0"]),
                      files: [ens], expectation: .invalidOption(["--checkpoint-interval"])),
        MalformedCase(name: "generate-steps-beyond-schedule", arguments: Cmd.generate(steps: "1000000000"),
                      expectation: .refusedOption(["--steps"])),
        MalformedCase(name: "calibrate-spread-steps-beyond-schedule", arguments: Cmd.calibrate("{d}/ens.nc", steps: "1000000000"),
                      files: [ens], expectation: .refusedOption(["--steps"])),
        MalformedCase(name: "generate-first-member-int-max", arguments: Cmd.generate(["--first-member", "9223372036854775807"]),
                      expectation: .refusedOption(["--first-member"])),
        MalformedCase(name: "generate-billion-members", arguments: Cmd.generate(members: "1000000000"),
                      expectation: .refusedOption(["--members"]), timeout: 15),
        MalformedCase(name: "generate-end-beyond-conditioning-file",
                      arguments: Cmd.generate(conditioning: "{d}/cond.nc", end: "2005"),
                      files: [.field("cond.nc")], expectation: .refusedOption(["the conditioning series covers"])),
        MalformedCase(name: "generate-end-beyond-model-conditioning", arguments: Cmd.generate(end: "2010"),
                      expectation: .refusedOption(["the conditioning series covers"])),
        MalformedCase(name: "generate-default-model-end-beyond-conditioning",
                      arguments: Cmd.generate(model: "{default}", conditioning: "{d}/cond.nc", end: "2003"),
                      files: [.field("cond.nc", .defaultModelGrid)], expectation: .refusedOption(["the conditioning series covers"])),
        MalformedCase(name: "train-vae-overlapping-validation-members",
                      arguments: Cmd.trainVAE(["{d}/ens.nc"], members: "0-1", validation: "1-2"),
                      files: [ens], expectation: .refusedOption(["both a training and a validation member"])),
        MalformedCase(name: "train-diffusion-overlapping-validation-members",
                      arguments: Cmd.trainDiffusion(["{d}/ens.nc"], members: "0-2", ["--validation-members", "2"]),
                      files: [ens], expectation: .refusedOption(["both a training and a validation member"])),
        MalformedCase(name: "generate-conditioning-member-without-conditioning",
                      arguments: Cmd.generate(["--conditioning-member", "1"]), expectation: .refusedOption(["--conditioning-member"])),
        MalformedCase(name: "train-vae-resume-with-other-channels",
                      arguments: Cmd.trainVAE(["{d}/ens.nc"], epochs: "40", channels: "16,32",
                                              ["--checkpoint-interval", "1", "--threads", "1", "--resume"]),
                      files: [ens], expectation: .refused(file: "{d}/vae.safetensors", mentions: ["resume"]),
                      setup: interruptedTraining),
    ]

    /// Starts `train-vae` with 8,16 channels (else the same options as the resume case), kills
    /// it as soon as its resumable state exists, and removes what the killed run left half-written.
    static func interruptedTraining(_ directory: String, _ executable: URL) throws {
        let p = Process()
        p.executableURL = executable
        p.arguments = Cmd.trainVAE(["\(directory)/ens.nc"], epochs: "40", output: "\(directory)/vae.safetensors",
                                   ["--checkpoint-interval", "1", "--threads", "1"])
        p.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let state = "\(directory)/vae.safetensors.training-state"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: state) && p.isRunning && Date() < deadline { usleep(2000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".partial") {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
        guard FileManager.default.fileExists(atPath: state) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: state])
        }
    }
}

enum AcceptedCases {
    static let north = CorpusFile.field("n2s.nc", FieldSpec().with { $0.latitudeDescending = true })
    static let lon180 = CorpusFile.field("lon180.nc", FieldSpec().with { $0.longitudes180 = true })
    static let packed = CorpusFile.field("packed.nc", FieldSpec().with { $0.packed = true })
    static let celsius = CorpusFile.field("degc.nc", .validCelsius)
    static let noleap = CorpusFile.field("noleap.nc", FieldSpec().with { $0.calendar = "noleap" })
    static let day360 = CorpusFile.field("d360.nc", FieldSpec().with { $0.calendar = "360_day" })
    static let hours = CorpusFile.field("hours.nc", FieldSpec().with { $0.timeUnit = "hours" })
    static let timeFirst = CorpusFile.field("tfirst.nc", FieldSpec().with { $0.timeFirst = true })
    static let height = CorpusFile.field("height.nc", FieldSpec().with { $0.heightDimension = true })
    static let classic = CorpusFile.field("classic.nc", FieldSpec().with { $0.format = .classic })
    static let offset64 = CorpusFile.field("cdf2.nc", FieldSpec().with { $0.format = .offset64Bit; $0.timeFirst = true; $0.unlimitedTime = true })
    static let singles = (0..<3).map { CorpusFile.field("r\($0).nc", .oneMember($0)) }

    static let all: [MalformedCase] = [
        MalformedCase(name: "info-latitude-descending", arguments: Cmd.info("{d}/n2s.nc"), files: [north],
                      expectation: .accepted([.stdout("latitudes -78.75")])),
        MalformedCase(name: "reconstruct-latitude-descending", arguments: Cmd.reconstruct("{d}/n2s.nc"), files: [north],
                      expectation: .accepted([.netCDF("rec.nc", members: 1), .stdout("RMSE")])),
        MalformedCase(name: "train-vae-longitudes-180", arguments: Cmd.trainVAE(["{d}/lon180.nc"]), files: [lon180],
                      expectation: .accepted([.nonEmpty("vae.safetensors")])),
        MalformedCase(name: "generate-conditioning-longitudes-180", arguments: Cmd.generate(conditioning: "{d}/lon180.nc"),
                      files: [lon180], expectation: .accepted([.netCDF("gen.nc", members: 1)])),
        MalformedCase(name: "baseline-packed-int16", arguments: Cmd.baseline("{d}/packed.nc"), files: [packed],
                      expectation: .accepted([.netCDF("base.nc", members: 2)])),
        MalformedCase(name: "merge-packed-int16", arguments: Cmd.merge(["{d}/packed.nc"]), files: [packed],
                      expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "fit-unresolved-packed-int16", arguments: Cmd.fitUnresolved("{d}/packed.nc"), files: [packed],
                      expectation: .accepted([.stdout("wrote")]), modifiesModel: true),
        MalformedCase(name: "diagnose-celsius", arguments: Cmd.diagnose("{d}/degc.nc"), files: [celsius],
                      expectation: .accepted([.report("diag")])),
        MalformedCase(name: "merge-celsius-to-kelvin", arguments: Cmd.merge(["{d}/degc.nc"]), files: [celsius],
                      expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "compress-latitude-descending", arguments: Cmd.compress("{d}/n2s.nc"), files: [north],
                      expectation: .accepted([.nonEmpty("c.egc.nc"), .stdout("max error")])),
        MalformedCase(name: "compress-packed-int16", arguments: Cmd.compress("{d}/packed.nc"), files: [packed],
                      expectation: .accepted([.nonEmpty("c.egc.nc")])),
        MalformedCase(name: "reconstruct-celsius", arguments: Cmd.reconstruct("{d}/degc.nc"), files: [celsius],
                      expectation: .accepted([.netCDF("rec.nc", members: 1)])),
        MalformedCase(name: "train-vae-noleap", arguments: Cmd.trainVAE(["{d}/noleap.nc"]), files: [noleap],
                      expectation: .accepted([.nonEmpty("vae.safetensors")])),
        MalformedCase(name: "merge-noleap", arguments: Cmd.merge(["{d}/noleap.nc"]), files: [noleap],
                      expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "reconstruct-360-day", arguments: Cmd.reconstruct("{d}/d360.nc"), files: [day360],
                      expectation: .accepted([.netCDF("rec.nc", members: 1)])),
        MalformedCase(name: "baseline-360-day", arguments: Cmd.baseline("{d}/d360.nc"), files: [day360],
                      expectation: .accepted([.netCDF("base.nc", members: 2)])),
        MalformedCase(name: "baseline-hours-since", arguments: Cmd.baseline("{d}/hours.nc"), files: [hours],
                      expectation: .accepted([.netCDF("base.nc", members: 2)])),
        MalformedCase(name: "reconstruct-hours-since", arguments: Cmd.reconstruct("{d}/hours.nc"), files: [hours],
                      expectation: .accepted([.netCDF("rec.nc", members: 1)])),
        MalformedCase(name: "train-vae-time-first", arguments: Cmd.trainVAE(["{d}/tfirst.nc"]), files: [timeFirst],
                      expectation: .accepted([.nonEmpty("vae.safetensors")])),
        MalformedCase(name: "evaluate-time-first", arguments: Cmd.evaluate(generated: "{d}/gen.nc", reference: "{d}/tfirst.nc"),
                      files: [.field("tfirst.nc", FieldSpec().with { $0.timeFirst = true; $0.members = 4 }), .field("gen.nc", FieldSpec().with { $0.seed = 9 })],
                      expectation: .accepted([.report("eval")])),
        MalformedCase(name: "merge-one-member-files", arguments: Cmd.merge(["{d}/r0.nc", "{d}/r1.nc", "{d}/r2.nc"]),
                      files: singles, expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "train-diffusion-one-member-files", arguments: Cmd.trainDiffusion(["{d}/r0.nc", "{d}/r1.nc", "{d}/r2.nc"]),
                      files: singles, expectation: .accepted([.nonEmpty("trained/diffusion-autoregressive.safetensors")])),
        MalformedCase(name: "train-vae-one-member-files", arguments: Cmd.trainVAE(["{d}/r0.nc", "{d}/r1.nc", "{d}/r2.nc"]),
                      files: singles, expectation: .accepted([.nonEmpty("vae.safetensors")])),
        MalformedCase(name: "train-vae-height-dimension", arguments: Cmd.trainVAE(["{d}/height.nc"]), files: [height],
                      expectation: .accepted([.nonEmpty("vae.safetensors")])),
        MalformedCase(name: "merge-height-dimension", arguments: Cmd.merge(["{d}/height.nc"]), files: [height],
                      expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "info-classic", arguments: Cmd.info("{d}/classic.nc"), files: [classic],
                      expectation: .accepted([.stdout("missing    0 of")])),
        MalformedCase(name: "baseline-classic", arguments: Cmd.baseline("{d}/classic.nc"), files: [classic],
                      expectation: .accepted([.netCDF("base.nc", members: 2)])),
        MalformedCase(name: "reconstruct-classic", arguments: Cmd.reconstruct("{d}/classic.nc"), files: [classic],
                      expectation: .accepted([.netCDF("rec.nc", members: 1)])),
        MalformedCase(name: "diagnose-classic", arguments: Cmd.diagnose("{d}/classic.nc"), files: [classic],
                      expectation: .accepted([.report("diag")])),
        MalformedCase(name: "merge-64-bit-offset-record-time", arguments: Cmd.merge(["{d}/cdf2.nc"]), files: [offset64],
                      expectation: .accepted([.netCDF("merged.nc", members: 3)])),
        MalformedCase(name: "generate-tiny-model", arguments: Cmd.generate(), expectation: .accepted([.netCDF("gen.nc", members: 1)])),
        MalformedCase(name: "generate-default-model-conditioning-north-to-south",
                      arguments: Cmd.generate(model: "{default}", conditioning: "{d}/cond.nc"),
                      files: [.field("cond.nc", FieldSpec.defaultModelGrid.with { $0.latitudeDescending = true })],
                      expectation: .accepted([.netCDF("gen.nc", members: 1)])),
        MalformedCase(name: "generate-default-model-conditioning-360-day-longitudes-180",
                      arguments: Cmd.generate(model: "{default}", conditioning: "{d}/cond.nc"),
                      files: [.field("cond.nc", FieldSpec.defaultModelGrid.with { $0.calendar = "360_day"; $0.longitudes180 = true })],
                      expectation: .accepted([.netCDF("gen.nc", members: 1)])),
        MalformedCase(name: "calibrate-spread-valid", arguments: Cmd.calibrate("{d}/ens.nc"), files: [OptionCases.ens],
                      expectation: .accepted([.stdout("calibrated")]), modifiesModel: true),
        MalformedCase(name: "evaluate-valid", arguments: Cmd.evaluate(generated: "{d}/gen.nc", reference: "{d}/ref.nc"),
                      files: [.field("gen.nc", FieldSpec().with { $0.seed = 5 }), .field("ref.nc", FieldSpec().with { $0.members = 4 })],
                      expectation: .accepted([.report("eval")])),
        MalformedCase(name: "info-with-missing-values", arguments: Cmd.info("{d}/fill.nc"), files: [.field("fill.nc", .withFillValues)],
                      expectation: .accepted([.stdout("missing    2 of")])),
    ]
}
