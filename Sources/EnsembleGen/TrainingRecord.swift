import Climate
import Foundation
import NetCDF

/// The training provenance record `training.json` in a model directory: what the model was
/// trained on and how. Each training command (train-vae, train-diffusion, fit-unresolved,
/// calibrate-spread) adds its part when it completes, keeping every key already there (the
/// record Data/default ships has `conditioning_members`, `data_tas_sha256`,
/// `durations_seconds`, `evaluation`, `generator_settings`, `notes`, `simulator`,
/// `training_members`, `validation_members`):
/// - `data_sha256` (path → SHA-256 of each data file; `data_tas_sha256`, which scripts write
///   as the digest of the `tas` values, is left as it is);
/// - `data_source_id`, `data_experiment_id`: the data's CMIP `source_id`/`experiment_id`;
/// - `training_members`, `validation_members` ("0-29");
/// - `durations_seconds.<step>`; `commands.<step>`: command line (with its date), version,
///   commit, data checksums and training members of that step;
/// - `ensemblegen_version`: the version of the last command.
/// `generate`, `reconstruct` and `info` read it back (`Summary`).
public enum TrainingRecord {
    public static let fileName = "training.json"

    /// What outputs of the model say about its training.
    public struct Summary: Sendable, Equatable {
        public var sourceID: String?
        public var experimentID: String?
        /// SHA-256 of the training data (`path: sha256` pairs when several files).
        public var dataSHA256: String?
        public var trainingMembers: String?
        /// The version of the last training command.
        public var version: String?
    }

    /// The record of the model directory `directory` (nil when it has none).
    /// - Throws: when the file exists but is not a JSON object.
    public static func read(directory: String) throws -> [String: Any]? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EnsembleGenError("\(path): not a JSON object; repair or remove the training record (training commands rewrite it)")
        }
        return object
    }

    /// The essentials of the record of `directory` (nil when it has none).
    public static func summary(directory: String) throws -> Summary? {
        guard let r = try read(directory: directory) else { return nil }
        let files = (r["data_sha256"] as? [String: String])?.sorted { $0.key < $1.key }
        let data = files.map { $0.count == 1 ? $0[0].value : $0.map { "\($0.key): \($0.value)" }.joined(separator: ", ") }
        return Summary(sourceID: r["data_source_id"] as? String, experimentID: r["data_experiment_id"] as? String,
                       dataSHA256: data ?? r["data_tas_sha256"] as? String, trainingMembers: r["training_members"] as? String,
                       version: r["ensemblegen_version"] as? String)
    }

    /// Adds what training step `step` (e.g. `vae`, `transformer`, `spread_calibration_transformer`) did
    /// to the record in `directory`, creating it if needed; replaced whole (never left half written).
    /// A step that reads no data (`repack`) gives none and no reader: the data keys stay as they are.
    public static func update(directory: String, step: String, data: [String] = [], reader: EnsembleReader? = nil,
                              trainingMembers: [Int]? = nil, validationMembers: [Int]? = nil, started: Date,
                              commandLine: [String] = CommandLine.arguments) throws {
        var record = try read(directory: directory) ?? [:]
        var digests: [String: String] = [:]
        for path in data { digests[EnsembleGenVersion.absolutePath(path)] = try FileDigest.sha256(path: path) }
        if !data.isEmpty { record["data_sha256"] = digests }
        for (key, attribute) in [("data_source_id", "source_id"), ("data_experiment_id", "experiment_id")] {
            let values = reader?.globalText(attribute) ?? []
            if !values.isEmpty { record[key] = values.joined(separator: " ") }
        }
        if let t = trainingMembers { record["training_members"] = MemberSelection.describe(t) }
        if let v = validationMembers, !v.isEmpty { record["validation_members"] = MemberSelection.describe(v) }
        var durations = record["durations_seconds"] as? [String: Any] ?? [:]
        durations[step] = Int(Date().timeIntervalSince(started).rounded())
        record["durations_seconds"] = durations
        var commands = record["commands"] as? [String: Any] ?? [:]
        var command: [String: Any] = ["command_line": EnsembleGenVersion.historyLine(commandLine: commandLine, files: data),
                                      "ensemblegen_version": EnsembleGenVersion.number, "ensemblegen_commit": EnsembleGenVersion.commit]
        if !data.isEmpty { command["data_sha256"] = digests }
        if let t = trainingMembers { command["training_members"] = MemberSelection.describe(t) }
        commands[step] = command
        record["commands"] = commands
        record["ensemblegen_version"] = EnsembleGenVersion.string
        let json = try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys])
        try (json + Data("\n".utf8)).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(fileName)), options: .atomic)
    }

    /// Global attributes of outputs of the model in `model`: the emulated model, its training
    /// data's experiment, checksum and members (from the record, else the checkpoint's
    /// `provenance`), for `generate` and `reconstruct`.
    static func outputAttributes(_ summary: Summary?, provenance: [String: String] = [:]) -> [(name: String, value: AttributeValue)] {
        var list: [(name: String, value: AttributeValue)] = []
        if let s = summary?.sourceID { list.append(("emulated_source_id", .text(s))) }
        if let e = summary?.experimentID { list.append(("training_experiment_id", .text(e))) }
        if let d = summary?.dataSHA256 { list.append(("training_data_sha256", .text(d))) }
        if let m = summary?.trainingMembers ?? provenance["training_members"] { list.append(("training_members", .text(m))) }
        if let d = provenance["data"] { list.append(("training_data", .text(d))) }
        return list
    }
}

extension ModelDirectory {
    /// `vae.safetensors:<sha256> diffusion-transformer.safetensors:<sha256> …`: the SHA-256 of
    /// each of the model files `names` that an output depends on (check with `sha256sum`);
    /// `known` holds digests already computed, by file name.
    func checksums(_ names: [String], known: [String: String] = [:]) throws -> String {
        try names.map { "\($0):\(try known[$0] ?? FileDigest.sha256(path: try require($0)))" }.joined(separator: " ")
    }
}
