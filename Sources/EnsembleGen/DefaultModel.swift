import Climate
import Foundation
import Models

/// Where the shipped default model (Data/default) is found when `--model` is omitted, and
/// the files of a model directory.
public enum DefaultModel {
    /// `$ENSEMBLEGEN_MODEL`, else `Data/default` in the current directory, else the
    /// repository's `Data/default` next to the executable (`.build/<config>/ensemblegen`).
    public static func locate() throws -> String {
        let environment = ProcessInfo.processInfo.environment["ENSEMBLEGEN_MODEL"]
        var candidates = [environment, "Data/default"].compactMap { $0 }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("Data/default").path)
            directory = directory.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("vae.safetensors")) }) {
            return found
        }
        throw CFError(file: "--model", "no model given and no default model found (looked in \(candidates.prefix(3).joined(separator: ", ")), …); pass --model DIR or set ENSEMBLEGEN_MODEL")
    }

    /// A VAE checkpoint path from `--model`: a file, or a model directory's vae.safetensors.
    public static func vaePath(_ model: String?) throws -> String {
        let path = try model ?? locate()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (path as NSString).appendingPathComponent("vae.safetensors")
        }
        return path
    }

    /// The path of `name` inside the model directory `directory`, failing with how to make
    /// it when the file is missing (`generator`: the one the command was asked for).
    public static func file(_ name: String, in directory: String, generator: GeneratorKind) throws -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CFError(file: directory, "model directory has no \(name): train it with `ensemblegen train-diffusion --generator \(generator.rawValue) --output \(directory)`")
        }
        return path
    }
}
