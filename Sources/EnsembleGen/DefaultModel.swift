import Climate
import Foundation
import Models

/// Where the shipped default model (Data/default) is found when `--model` is omitted
/// (the files inside a model directory: `ModelDirectory`).
public enum DefaultModel {
    /// `$ENSEMBLEGEN_MODEL`, else `Data/default` in the current directory, else the
    /// repository's `Data/default` next to the executable (`.build/<config>/ensemblegen`).
    public static func locate() throws -> String {
        if let chosen = ProcessInfo.processInfo.environment["ENSEMBLEGEN_MODEL"] {
            // Set but wrong is an error, not a reason to fall back to another model.
            guard ModelDirectory(chosen).contains(ModelDirectory.vaeFileName) else {
                throw EnsembleGenError("ENSEMBLEGEN_MODEL='\(chosen)' is not a model directory (no \(ModelDirectory.vaeFileName) in it); set it to one or unset it")
            }
            return chosen
        }
        var candidates = ["Data/default"]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("Data/default").path)
            directory = directory.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { ModelDirectory($0).contains(ModelDirectory.vaeFileName) }) {
            return found
        }
        throw EnsembleGenError("no model directory given and no default model found (looked in \(candidates.prefix(3).joined(separator: ", ")), …); give a model directory or set ENSEMBLEGEN_MODEL")
    }

    /// A VAE checkpoint path from `--model`: a file, or a model directory's vae.safetensors.
    public static func vaePath(_ model: String?) throws -> String {
        let path = try model ?? locate()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return ModelDirectory(path).file(ModelDirectory.vaeFileName)
        }
        return path
    }
}
