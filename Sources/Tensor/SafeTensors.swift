// Checkpoints in the safetensors format (what Python's `safetensors` reads): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, 
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes.

import Foundation
import OutputFiles

/// A checkpoint problem, naming the file or tensor.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missingTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case unexpectedTensors([String])
    case malformed(path: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingTensor(let name): return "checkpoint has no tensor '\(name)'"
        case .shapeMismatch(let name, let expected, let found):
            return "checkpoint tensor '\(name)' has shape \(found), the model expects \(expected)"
        case .unexpectedTensors(let names):
            return "checkpoint has tensors the model does not: \(names.prefix(5).joined(separator: ", "))"
                + (names.count > 5 ? " and \(names.count - 5) more" : "")
        case .malformed(let path, let reason): return "\(path): not a valid safetensors file: \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }
}

/// Reading and writing safetensors files of tensors stored as Float32 or, where asked,
/// Float16 (read back as Float32).
public enum SafeTensors {
    /// Writes `tensors` and string `metadata` to `url` (an `OutputFile`: checked destination,
    /// exclusive `<url>.partial` renamed when complete); the tensors named in `float16` are
    /// stored rounded to Float16 (to nearest, ties to even), half the bytes.
    /// - Throws: `CheckpointError.malformed` when a value of a `float16` tensor is not finite
    ///   or beyond Float16's range (±65504), before anything is written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], float16: Set<String> = [],
                             to url: URL) throws {
        let names = tensors.keys.sorted()
        var entries: [String] = []
        var offset = 0
        for name in names {
            let tensor = tensors[name]!, half = float16.contains(name)
            if half, let k = (0..<tensor.count).first(where: { !(abs(tensor.pointer[$0]) <= Float(Float16.greatestFiniteMagnitude)) }) {
                throw CheckpointError.malformed(path: url.path, reason: "tensor '\(name)' holds \(tensor.pointer[k]) at index \(k), which Float16 cannot store; keep it in Float32")
            }
            let bytes = tensor.count * (half ? 2 : 4)
            entries.append("\(jsonString(name)):{\"dtype\":\"\(half ? "F16" : "F32")\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names {
            let tensor = tensors[name]!
            // Stored little-endian, as on every platform Swift runs on here.
            if float16.contains(name) {
                let half = (0..<tensor.count).map { Float16(tensor.pointer[$0]) }
                half.withUnsafeBufferPointer { data.append($0) }
            } else {
                data.append(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count))
            }
        }
        try OutputFile.write(data, to: url.path)
    }

    /// Reads every tensor (F32, or F16 widened exactly to Float32) and the metadata of a
    /// safetensors file.
    /// - Parameter requireFinite: refuse NaN and Inf (the default: every checkpoint this tool
    ///   writes is finite, so they mean a damaged file or a diverged training).
    public static func read(_ url: URL, requireFinite: Bool = true) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.io(path: path, reason: "cannot read the checkpoint (missing or unreadable)")
        }
        guard data.count >= 8 else { throw CheckpointError.malformed(path: path, reason: "shorter than 8 bytes") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError.malformed(path: path, reason: "header length \(headerLength) exceeds the file")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
            throw CheckpointError.malformed(path: path, reason: "header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = entry as? [String: String] ?? [:]
                continue
            }
            guard let fields = entry as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
                  offsets.count == 2 else {
                throw CheckpointError.malformed(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" || dtype == "F16" else {
                throw CheckpointError.malformed(path: path, reason: "tensor '\(name)' has dtype \(dtype); only F32 and F16 are supported")
            }
            let width = dtype == "F16" ? 2 : 4
            // A damaged header's sizes must not overflow into a count that seems to fit.
            let count = shape.reduce(1) { $1 >= 0 && $0 <= data.count ? $0 * min($1, data.count + 1) : data.count + 1 }
            guard count <= data.count, offsets[1] - offsets[0] == width * count, offsets[0] >= 0,
                  dataStart + offsets[1] <= data.count else {
                throw CheckpointError.malformed(path: path, reason: "tensor '\(name)' offsets \(offsets) do not fit shape \(shape)")
            }
            let tensor = Tensor(uninitializedShape: shape)
            data.withUnsafeBytes { raw in
                let start = raw.baseAddress! + dataStart + offsets[0]
                if width == 4 {
                    UnsafeMutableRawPointer(tensor.pointer).copyMemory(from: start, byteCount: 4 * count)
                } else {
                    for i in 0..<count {
                        tensor.pointer[i] = Float(Float16(bitPattern: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                }
            }
            // Weights, statistics and optimiser moments are all finite; NaN or Inf means a
            // damaged file or a diverged training, and would turn every output into NaN.
            if requireFinite, let k = (0..<count).first(where: { !tensor.pointer[$0].isFinite }) {
                throw CheckpointError.malformed(path: path, reason: "tensor '\(name)' holds \(tensor.pointer[k]) at index \(k): the file is damaged or comes from a diverged training")
            }
            tensors[name] = tensor
        }
        return (tensors, metadata)
    }

    /// Copies checkpoint tensors into `parameters` by name; every parameter must be present
    /// with its shape. `allowExtra` tolerates other tensors (optimiser state, EMA).
    public static func load(_ tensors: [String: Tensor], into parameters: [Parameter], allowExtra: Bool = true) throws {
        for parameter in parameters {
            guard let tensor = tensors[parameter.name] else { throw CheckpointError.missingTensor(parameter.name) }
            guard tensor.shape == parameter.value.shape else {
                throw CheckpointError.shapeMismatch(name: parameter.name, expected: parameter.value.shape, found: tensor.shape)
            }
            parameter.value.assign(tensor)
        }
        if !allowExtra {
            let known = Set(parameters.map(\.name))
            let extra = tensors.keys.filter { !known.contains($0) }.sorted()
            if !extra.isEmpty { throw CheckpointError.unexpectedTensors(extra) }
        }
    }

    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension Layer {
    /// The parameters as named tensors (for `SafeTensors.write`).
    public var namedTensors: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
    }
}
