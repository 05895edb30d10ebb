import Foundation

/// Cases with a bad output target: refused before anything is written, the inputs,
/// directories, FIFOs and stale `.partial` files untouched. Every case runs with its own
/// directory as working directory, so an empty or relative output path stays inside it.
enum OutputCases {
    static let all: [MalformedCase] = sameAsInput + notAFile + missingParent + busy + empty

    static let ens = CorpusFile.field("ens.nc")
    static let cond = CorpusFile.field("cond.nc")

    // MARK: output is an input

    static let sameAsInput: [MalformedCase] = [
        MalformedCase(name: "generate-output-is-conditioning", arguments: Cmd.generate(conditioning: "{d}/cond.nc", output: "{d}/cond.nc"),
                      files: [cond], expectation: .refused(file: "{d}/cond.nc", mentions: ["is also an input"])),
        MalformedCase(name: "baseline-output-is-training", arguments: Cmd.baseline("{d}/ens.nc", output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["is also an input"])),
        MalformedCase(name: "reconstruct-output-is-data", arguments: Cmd.reconstruct("{d}/ens.nc", output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["is also an input"])),
        MalformedCase(name: "merge-output-is-input", arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["is also an input"])),
        MalformedCase(name: "merge-output-is-second-input",
                      arguments: Cmd.merge(["{d}/a.nc", "{d}/b.nc"], output: "{d}/b.nc"),
                      files: [.field("a.nc", .oneMember(0)), .field("b.nc", .oneMember(1))],
                      expectation: .refused(file: "{d}/b.nc", mentions: ["is also an input"])),
        MalformedCase(name: "merge-output-is-input-via-dot-path",
                      arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/./ens.nc"),
                      files: [ens], expectation: .refused(file: "ens.nc", mentions: ["is also an input"])),
        MalformedCase(name: "compress-output-is-input", arguments: Cmd.compress("{d}/ens.nc", output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["is also an input"])),
        MalformedCase(name: "decompress-output-is-input", arguments: Cmd.decompress("{d}/ens.nc", output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: [])),
        MalformedCase(name: "decompress-not-compressed", arguments: Cmd.decompress("{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["not a file written by `ensemblegen compress`"])),
        MalformedCase(name: "train-vae-output-is-data", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "{d}/ens.nc"),
                      files: [ens], expectation: .refused(file: "{d}/ens.nc", mentions: ["is also an input"])),
    ]

    // MARK: output is a directory or not a regular file

    static let notAFile: [MalformedCase] = [
        MalformedCase(name: "train-vae-output-directory", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "{d}/out"),
                      files: [ens, .directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        // `-o .` is the working directory (the case's own): a run once deleted it recursively.
        MalformedCase(name: "train-vae-output-is-working-directory", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "."),
                      files: [ens, .directory("keep")], expectation: .refused(file: ".", mentions: ["is a directory"])),
        MalformedCase(name: "generate-output-directory", arguments: Cmd.generate(output: "{d}/out"),
                      files: [.directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        MalformedCase(name: "merge-output-directory", arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/out"),
                      files: [ens, .directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        MalformedCase(name: "baseline-output-directory", arguments: Cmd.baseline("{d}/ens.nc", output: "{d}/out"),
                      files: [ens, .directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        MalformedCase(name: "compress-output-directory", arguments: Cmd.compress("{d}/ens.nc", output: "{d}/out"),
                      files: [ens, .directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        MalformedCase(name: "reconstruct-output-directory", arguments: Cmd.reconstruct("{d}/ens.nc", output: "{d}/out"),
                      files: [ens, .directory("out")], expectation: .refused(file: "{d}/out", mentions: ["is a directory"])),
        MalformedCase(name: "generate-output-fifo", arguments: Cmd.generate(output: "{d}/pipe"),
                      files: [.fifo("pipe")], expectation: .refused(file: "{d}/pipe", mentions: ["not a regular file"])),
        MalformedCase(name: "merge-output-fifo", arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/pipe"),
                      files: [ens, .fifo("pipe")], expectation: .refused(file: "{d}/pipe", mentions: ["not a regular file"])),
        MalformedCase(name: "baseline-output-fifo", arguments: Cmd.baseline("{d}/ens.nc", output: "{d}/pipe"),
                      files: [ens, .fifo("pipe")], expectation: .refused(file: "{d}/pipe", mentions: ["not a regular file"])),
        MalformedCase(name: "train-vae-output-fifo", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "{d}/pipe"),
                      files: [ens, .fifo("pipe")], expectation: .refused(file: "{d}/pipe", mentions: ["not a regular file"])),
    ]

    // MARK: output's directory does not exist

    static let missingParent: [MalformedCase] = [
        MalformedCase(name: "generate-output-parent-missing", arguments: Cmd.generate(output: "{d}/nope/gen.nc"),
                      expectation: .refused(file: "{d}/nope", mentions: ["does not exist"])),
        MalformedCase(name: "merge-output-parent-missing", arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/nope/m.nc"),
                      files: [ens], expectation: .refused(file: "{d}/nope", mentions: ["does not exist"])),
        MalformedCase(name: "train-vae-output-parent-missing", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "{d}/nope/vae.safetensors"),
                      files: [ens], expectation: .refused(file: "{d}/nope", mentions: ["does not exist"])),
        MalformedCase(name: "baseline-output-parent-missing", arguments: Cmd.baseline("{d}/ens.nc", output: "{d}/nope/base.nc"),
                      files: [ens], expectation: .refused(file: "{d}/nope", mentions: ["does not exist"])),
        MalformedCase(name: "reconstruct-output-parent-missing", arguments: Cmd.reconstruct("{d}/ens.nc", output: "{d}/nope/rec.nc"),
                      files: [ens], expectation: .refused(file: "{d}/nope", mentions: ["does not exist"])),
    ]

    // MARK: `<output>.partial` exists: another run is writing

    static let busy: [MalformedCase] = [
        MalformedCase(name: "merge-partial-exists", arguments: Cmd.merge(["{d}/ens.nc"], output: "{d}/m.nc"),
                      files: [ens, .partial(of: "m.nc")], expectation: .refused(file: "{d}/m.nc", mentions: ["another"])),
        MalformedCase(name: "generate-partial-exists", arguments: Cmd.generate(output: "{d}/gen.nc"),
                      files: [.partial(of: "gen.nc")], expectation: .refused(file: "{d}/gen.nc", mentions: ["another"])),
        MalformedCase(name: "baseline-partial-exists", arguments: Cmd.baseline("{d}/ens.nc", output: "{d}/base.nc"),
                      files: [ens, .partial(of: "base.nc")], expectation: .refused(file: "{d}/base.nc", mentions: ["another"])),
        MalformedCase(name: "train-vae-partial-exists", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: "{d}/vae.safetensors"),
                      files: [ens, .partial(of: "vae.safetensors")],
                      expectation: .refused(file: "{d}/vae.safetensors", mentions: ["another"])),
        MalformedCase(name: "compress-partial-exists", arguments: Cmd.compress("{d}/ens.nc", output: "{d}/c.nc"),
                      files: [ens, .partial(of: "c.nc")], expectation: .refused(file: "{d}/c.nc", mentions: ["another"])),
        MalformedCase(name: "reconstruct-partial-exists", arguments: Cmd.reconstruct("{d}/ens.nc", output: "{d}/rec.nc"),
                      files: [ens, .partial(of: "rec.nc")], expectation: .refused(file: "{d}/rec.nc", mentions: ["another"])),
    ]

    // MARK: empty output path (resolved against the case directory, never the repository)

    static let empty: [MalformedCase] = [
        MalformedCase(name: "merge-empty-output", arguments: Cmd.merge(["{d}/ens.nc"], output: ""),
                      files: [ens], expectation: .refusedOption(["output", "-o"])),
        MalformedCase(name: "generate-empty-output", arguments: Cmd.generate(output: ""),
                      expectation: .refusedOption(["output", "-o"])),
        MalformedCase(name: "train-vae-empty-output", arguments: Cmd.trainVAE(["{d}/ens.nc"], output: ""),
                      files: [ens], expectation: .refusedOption(["output", "-o"])),
        MalformedCase(name: "baseline-empty-output", arguments: Cmd.baseline("{d}/ens.nc", output: ""),
                      files: [ens], expectation: .refusedOption(["output", "-o"])),
    ]
}
