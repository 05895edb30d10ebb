import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen diagnose ENS.nc --output dir/`.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Diagnostics of one ensemble: GMST, Niño3.4 statistics and spectrum, ENSO regression, volcanic composites, autocorrelation, EOFs.",
        discussion: """
            Monthly or annual data. Writes report.md, report.json (keys documented in Docs/evaluation.md) and PNG figures; \
            with annual data everything is in years and the metrics that need monthly data are null.

            Example: ensemblegen diagnose ens.nc --output diagnostics/
            """)

    @Argument(help: ArgumentHelp("CF NetCDF ensemble file.", valueName: "file"))
    var file: String

    @Option(name: [.short, .long], help: ArgumentHelp("Directory for report.md, report.json, figures.", valueName: "dir"))
    var output: String

    @OptionGroup var selection: MemberListOption
    @OptionGroup var field: VariableOption
    @OptionGroup var progress: QuietOption

    func validate() throws { try OptionCheck.requirePath(output, "--output") }

    func run() throws {
        try reportingErrors {
            let result = try DiagnosePipeline.run(input: file, variable: field.variable, members: selection.members, outputDirectory: output)
            print(result.text)
        }
    }
}

/// `ensemblegen evaluate --generated GEN.nc --reference REF.nc …`.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a generated ensemble (and a baseline, and the training ensemble) against reference members.",
        discussion: """
            Every metric of the evaluation protocol (Docs/evaluation.md): spread ratio, ensemble-mean error, fair CRPS, \
            rank histogram, spread–skill, Niño3.4 statistics and spectrum, correlation with the conditioning member, \
            volcanic composites, autocorrelation, EOFs.
            Monthly or annual data (all files the same sampling).

            Example (the evaluation protocol of Docs/evaluation.md): ensemblegen evaluate --generated gen.nc --reference ens40.nc \
            --reference-members 30-39 --training ens40.nc --training-members 0-29 --baseline base.nc \
            --conditioning-member 0 --output eval/
            """)

    @Option(name: .long, help: ArgumentHelp("Generated ensemble (omit: score the others only).", valueName: "file"))
    var generated: String?

    @Option(name: .long, help: ArgumentHelp("Members of --generated (default: all).", valueName: "list"))
    var generatedMembers: String?

    @Option(name: .long, help: ArgumentHelp("Reference (true) ensemble, e.g. held-out members.", valueName: "file"))
    var reference: String

    @Option(name: .long, help: ArgumentHelp("Members of --reference, e.g. 30-39 (default: all).", valueName: "list"))
    var referenceMembers: String?

    @Option(name: .long, help: ArgumentHelp("Baseline ensemble from `ensemblegen baseline`.", valueName: "file"))
    var baseline: String?

    @Option(name: .long, help: ArgumentHelp("Training ensemble (may be the --reference file).", valueName: "file"))
    var training: String?

    @Option(name: .long, help: ArgumentHelp("Members of --training, e.g. 0-29 (default: all).", valueName: "list"))
    var trainingMembers: String?

    @Option(name: .long, help: ArgumentHelp("Conditioning member, in --training else --reference.", valueName: "n"))
    var conditioningMember: Int?

    @OptionGroup var field: VariableOption

    @Option(name: [.short, .long], help: ArgumentHelp("Directory for report.md, report.json, figures.", valueName: "dir"))
    var output: String

    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            let result = try EvaluatePipeline.run(.init(
                generated: generated, generatedMembers: generatedMembers, reference: reference,
                referenceMembers: referenceMembers, baseline: baseline, training: training,
                trainingMembers: trainingMembers, conditioningMember: conditioningMember, variable: field.variable,
                outputDirectory: output))
            print(result.text)
        }
    }
}

/// `ensemblegen baseline --training ENS.nc …`.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Generate a statistical-baseline ensemble (MESMER style: smoothed forced component + AR(1) noise with EOF spatial covariance).",
        discussion: "Example: ensemblegen baseline --training ens40.nc --training-members 0-29 --conditioning-member 0 --members 30 --seed 1 --output base.nc")

    @Option(name: .long, help: ArgumentHelp("Training ensemble file.", valueName: "file"))
    var training: String

    @Option(name: .long, help: ArgumentHelp("Members of --training, e.g. 0-29 (default: all).", valueName: "list"))
    var trainingMembers: String?

    @Option(name: .long, help: ArgumentHelp("Member of --training whose smoothed forced component the noise is added to.", valueName: "n"))
    var conditioningMember: Int = 0

    @Option(name: .long, help: ArgumentHelp("Number of members to generate.", valueName: "n"))
    var members: Int = 30

    @Option(name: .long, help: ArgumentHelp("Random seed; member k uses substream k.", valueName: "n"))
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("EOF modes of the spatial covariance.", valueName: "n"))
    var modes: Int = 50

    @Option(name: .long, help: ArgumentHelp("Forced-component running mean (months).", valueName: "n"))
    var smoothingMonths: Int = 121

    @OptionGroup var field: VariableOption

    @Option(name: [.short, .long], help: ArgumentHelp("Output NetCDF file.", valueName: "file"))
    var output: String

    @OptionGroup var storage: OutputStorageOptions
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.require(members, in: 1...OptionCheck.maximumMembers, "--members")
        try OptionCheck.require(modes, in: 1...100_000, "--modes")
        try OptionCheck.require(smoothingMonths, in: 1...100_000, "--smoothing-months")
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            let bar = ProgressBar("baseline", total: members, unit: "members", quiet: progress.quiet)
            let text = try BaselinePipeline.run(.init(
                training: training, trainingMembers: trainingMembers, conditioningMember: conditioningMember,
                memberCount: members, seed: seed, modeCount: modes, smoothingMonths: smoothingMonths,
                variable: field.variable, output: output, storage: storage.storage, commandLine: CommandLine.arguments)) { done, _ in bar.update(done) }
            bar.finish()
            print(text)
        }
    }
}

/// Runs `body`; any error other than argument validation is printed as one line and exits 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        printError(error)
        throw ExitCode.failure
    }
}
