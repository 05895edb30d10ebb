import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen diagnose ENS.nc --output dir/`.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Diagnostics of one ensemble: GMST, Niño3.4 statistics and spectrum, ENSO regression, volcanic composites, autocorrelation, EOFs.",
        discussion: "Writes report.md, report.json (keys documented in Docs/evaluation.md) and PNG figures.\n\nExample: ensemblegen diagnose ens.nc --output diagnostics/")

    @Argument(help: "CF NetCDF ensemble file.")
    var file: String

    @Option(name: [.short, .long], help: "Output directory for report.md, report.json and figures.")
    var output: String

    @Option(name: .long, help: "Members to use, e.g. 0-29 (default: all).")
    var members: String?

    @Option(name: .long, help: "Data variable (default: the single gridded field).")
    var variable: String?

    func validate() throws { try OptionCheck.requirePath(output, "--output") }

    func run() throws {
        try reportingErrors {
            let result = try DiagnosePipeline.run(input: file, variable: variable, members: members, outputDirectory: output)
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

            Example (protocol of DESIGN.md): ensemblegen evaluate --generated gen.nc --reference ens40.nc \
            --reference-members 30-39 --training ens40.nc --training-members 0-29 --baseline base.nc \
            --conditioning-member 0 --output eval/
            """)

    @Option(name: .long, help: "Generated ensemble file (omit to score only --baseline and --training).")
    var generated: String?

    @Option(name: .long, help: "Members of the generated file to use (default: all).")
    var generatedMembers: String?

    @Option(name: .long, help: "Reference (true) ensemble file, e.g. held-out members.")
    var reference: String

    @Option(name: .long, help: "Members of the reference file to use, e.g. 30-39 (default: all).")
    var referenceMembers: String?

    @Option(name: .long, help: "Statistical-baseline ensemble file (from `ensemblegen baseline`).")
    var baseline: String?

    @Option(name: .long, help: "Training ensemble file (may be the reference file).")
    var training: String?

    @Option(name: .long, help: "Members of the training file, e.g. 0-29.")
    var trainingMembers: String?

    @Option(name: .long, help: "Index of the conditioning member in the training (else reference) file.")
    var conditioningMember: Int?

    @Option(name: .long, help: "Data variable (default: the single gridded field).")
    var variable: String?

    @Option(name: [.short, .long], help: "Output directory for report.md, report.json and figures.")
    var output: String

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            let result = try EvaluatePipeline.run(.init(
                generated: generated, generatedMembers: generatedMembers, reference: reference,
                referenceMembers: referenceMembers, baseline: baseline, training: training,
                trainingMembers: trainingMembers, conditioningMember: conditioningMember, variable: variable,
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

    @Option(name: .long, help: "Training ensemble file.")
    var training: String

    @Option(name: .long, help: "Members of the training file, e.g. 0-29 (default: all).")
    var trainingMembers: String?

    @Option(name: .long, help: "Member (index in the training file) whose smoothed forced component the noise is added to.")
    var conditioningMember: Int = 0

    @Option(name: .long, help: "Number of members to generate.")
    var members: Int = 30

    @Option(name: .long, help: "Random seed (member k uses substream k).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Number of EOF modes of the spatial covariance.")
    var modes: Int = 50

    @Option(name: .long, help: "Running-mean window in months for the forced component.")
    var smoothingMonths: Int = 121

    @Option(name: .long, help: "Data variable (default: the single gridded field).")
    var variable: String?

    @Option(name: [.short, .long], help: "Output NetCDF file.")
    var output: String

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.requireMembers(members, first: 0)
        try OptionCheck.require(modes, in: 1...100_000, "--modes")
        try OptionCheck.require(smoothingMonths, in: 1...100_000, "--smoothing-months")
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            let bar = ProgressBar("baseline", total: members, unit: "members", quiet: quiet)
            let text = try BaselinePipeline.run(.init(
                training: training, trainingMembers: trainingMembers, conditioningMember: conditioningMember,
                memberCount: members, seed: seed, modeCount: modes, smoothingMonths: smoothingMonths,
                variable: variable, output: output, commandLine: CommandLine.arguments)) { done, _ in bar.update(done) }
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
