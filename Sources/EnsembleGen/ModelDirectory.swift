import Climate
import Foundation
import Models

/// A model directory (what `train-diffusion` writes): `vae.safetensors`,
/// `conditioning.safetensors`, one `diffusion-<generator>.safetensors` per trained
/// generator, `unresolved-variability.safetensors` and the latent cache. Each file is found,
/// read, checked against the others and digested here once, when first asked for:
/// - a missing file fails naming the directory and the command that makes it; a file that
///   cannot be read fails naming the file;
/// - the conditioning series and each diffusion checkpoint must have the VAE's latent
///   dimension, the conditioning series its training frequency, and the unresolved
///   variability its grid, when the directory has a VAE (commands that need it ask for
///   `vae()` first; `info` describes what there is); `checkData` checks data given
///   alongside the model the same way.
/// Nothing is read before it is asked for, so callers keep their order of checks.
public final class ModelDirectory {
    public static let vaeFileName = "vae.safetensors"
    /// Encoder means of the training members (`LatentCache`).
    public static let latentCacheFileName = "latents.safetensors"

    public let path: String

    private var loadedVAE: TrainedVAE?
    private var loadedConditioning: ConditioningSeries?
    private var loadedDiffusion: [GeneratorKind: (model: LatentDiffusion, provenance: [String: String])] = [:]
    private var loadedUnresolved: UnresolvedVariability??
    private var digests: [String: String] = [:]

    /// Reads nothing yet: files are read when first asked for.
    public init(_ path: String) {
        self.path = path
    }

    // MARK: - Files

    /// The path of `name` inside the directory (whether or not it exists).
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Whether the directory holds `name`.
    public func contains(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    /// Every file in the directory: none of them may be an output of a command that reads the model.
    public var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).map(file)
    }

    /// The path of `name`, failing with what the directory lacks and how to make it.
    public func require(_ name: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EnsembleGenError("\(path): no such model directory; train one with `ensemblegen train-diffusion`")
        }
        guard isDirectory.boolValue else {
            throw EnsembleGenError("\(path): not a directory; give the model directory `ensemblegen train-diffusion` writes (it holds \(Self.vaeFileName), \(ConditioningSeries.fileName) and diffusion-<generator>.safetensors)")
        }
        guard contains(name) else {
            throw EnsembleGenError("\(path): the model directory has no \(name); \(howToMake(name))")
        }
        return file(name)
    }

    /// The command that writes `name` into this directory.
    public func howToMake(_ name: String) -> String {
        if name == UnresolvedVariability.fileName {
            return "add it with `ensemblegen fit-unresolved --model \(path) --data <training data> --members <training members>`"
        }
        if let generator = GeneratorKind.allCases.first(where: { LatentDiffusion.fileName($0) == name }) {
            return "train it with `ensemblegen train-diffusion --generator \(generator.rawValue) --vae \(file(Self.vaeFileName)) --data <training data> --output \(path)`"
        }
        return "train-diffusion writes it: `ensemblegen train-diffusion --vae <VAE> --data <training data> --output \(path)`"
    }

    /// The content digest of `name` (`FileDigest`) for provenance, computed once.
    public func digest(_ name: String) throws -> String {
        if let known = digests[name] { return known }
        let digest = try FileDigest.hex(path: try require(name))
        digests[name] = digest
        return digest
    }

    // MARK: - Models

    /// The VAE (`vae.safetensors`).
    public func vae() throws -> TrainedVAE {
        if let loadedVAE { return loadedVAE }
        let vae = try TrainedVAE.load(try require(Self.vaeFileName))
        loadedVAE = vae
        return vae
    }

    /// Values per latent field of the VAE.
    public func latentDimension() throws -> Int { try vae().latentDimension }

    /// The conditioning member's latent series, checked against the VAE when the directory has one.
    public func conditioning() throws -> ConditioningSeries {
        if let loadedConditioning { return loadedConditioning }
        let path = try require(ConditioningSeries.fileName)
        let series = try ConditioningSeries.load(path)
        if contains(Self.vaeFileName) {
            let vae = try vae(), d = try latentDimension(), frequency = series.time.frequency
            guard series.dimension == d else {
                throw EnsembleGenError("\(path): latent dimension \(series.dimension) does not match the VAE's \(d) (\(file(Self.vaeFileName))); the directory mixes files of different models: train it again")
            }
            guard frequency == vae.trainingFrequency else {
                throw EnsembleGenError("\(path): \(frequency.rawValue) time steps, but the VAE (\(file(Self.vaeFileName))) was trained on \(vae.trainingFrequency.rawValue) data; the directory mixes files of different models: train it again")
            }
        }
        loadedConditioning = series
        return series
    }

    /// The diffusion checkpoint of `generator` and its provenance, checked against the VAE
    /// when the directory has one.
    public func diffusion(_ generator: GeneratorKind) throws -> (model: LatentDiffusion, provenance: [String: String]) {
        if let loaded = loadedDiffusion[generator] { return loaded }
        let path = try require(LatentDiffusion.fileName(generator))
        let loaded = try LatentDiffusion.load(path)
        if contains(Self.vaeFileName) {
            let d = try latentDimension(), found = loaded.model.configuration.latentDimension
            guard found == d else {
                throw EnsembleGenError("\(path): latent dimension \(found) does not match the VAE's \(d) (\(file(Self.vaeFileName))); train the \(generator.rawValue) generator again with this VAE")
            }
            // A generator learned the latents of one VAE; another VAE's latents mean something else.
            if let trainedWith = loaded.provenance["vae_hash"], trainedWith != (try digest(Self.vaeFileName)) {
                throw EnsembleGenError("\(path): trained with another VAE (digest \(trainedWith), the directory's \(file(Self.vaeFileName)) has \(try digest(Self.vaeFileName))); train the \(generator.rawValue) generator again with this VAE")
            }
        }
        loadedDiffusion[generator] = loaded
        return loaded
    }

    /// The unresolved variability on the VAE's grid, or nil when the directory has none.
    public func unresolvedVariability() throws -> UnresolvedVariability? {
        if let loadedUnresolved { return loadedUnresolved }
        var loaded: UnresolvedVariability?
        if contains(UnresolvedVariability.fileName) {
            let path = file(UnresolvedVariability.fileName)
            let statistics = try UnresolvedVariability.load(path)
            if contains(Self.vaeFileName) { try vae().checkGrid(statistics.grid, dataPath: path) }
            loaded = statistics
        }
        loadedUnresolved = .some(loaded)
        return loaded
    }

    /// Fails, naming `dataPath`, when the data's grid or sampling frequency is not the VAE's.
    public func checkData(_ reader: EnsembleReader, dataPath: String) throws {
        try vae().checkData(reader, dataPath: dataPath)
    }

    /// Stores `calibration` in the checkpoint of `generator` (`LatentDiffusion.store`) and
    /// forgets what was read of it; returns the checkpoint's path.
    @discardableResult
    public func store(_ calibration: SpreadCalibration, generator: GeneratorKind) throws -> String {
        try rewriteDiffusion(generator) { try LatentDiffusion.store(calibration, inCheckpoint: $0) }
    }

    /// Rewrites `generator`'s checkpoint in the current format with its weight matrices in
    /// `weightPrecision` (`ensemblegen repack`); returns its path.
    @discardableResult
    public func repack(_ generator: GeneratorKind, weightPrecision: WeightPrecision) throws -> String {
        // The model as `diffusion` loaded and checked it, read once.
        let (model, provenance) = try diffusion(generator)
        return try rewriteDiffusion(generator) { try model.rewrite($0, weightPrecision: weightPrecision, provenance: provenance) }
    }

    private func rewriteDiffusion(_ generator: GeneratorKind, _ rewrite: (String) throws -> Void) throws -> String {
        let name = LatentDiffusion.fileName(generator), path = try require(name)
        try rewrite(path)
        loadedDiffusion[generator] = nil
        digests[name] = nil
        return path
    }
}
