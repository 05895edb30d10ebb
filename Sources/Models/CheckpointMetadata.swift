// JSON values in the string metadata of safetensors checkpoints, shared by every model file.

import Foundation
import Tensor

/// Reading and writing Codable values as JSON strings in checkpoint metadata.
enum CheckpointMetadata {
    /// Compact JSON with sorted keys (stable files for identical content).
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The value under `key`, or an error naming the file and the key.
    static func decode<T: Decodable>(_ type: T.Type, _ key: String, in metadata: [String: String], path: String) throws -> T {
        guard let text = metadata[key], let value = try? JSONDecoder().decode(type, from: Data(text.utf8)) else {
            throw ModelError.checkpoint("\(path): metadata '\(key)' is missing or invalid")
        }
        return value
    }

    /// Checks the `format` entry, naming the file and what it is instead.
    static func requireFormat(_ format: String, kind: String, in metadata: [String: String], path: String) throws {
        guard metadata["format"] == format else {
            throw ModelError.checkpoint("\(path): not an EnsembleGen \(kind) checkpoint (format '\(metadata["format"] ?? "none")', expected '\(format)')")
        }
    }

    /// Copies parameters by name, turning checkpoint errors into model errors naming the file.
    static func loadParameters(_ tensors: [String: Tensor], into parameters: [Parameter], path: String) throws {
        do {
            try SafeTensors.load(tensors, into: parameters)
        } catch let error as CheckpointError {
            throw ModelError.checkpoint("\(path): \(error)")
        }
    }
}
