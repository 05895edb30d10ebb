import XCTest
import Foundation
import RandomStreams
import TestEnvironment
@testable import Tensor

final class SafeTensorsTests: XCTestCase {
    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
    }

    func testRoundTripIsBitExact() throws {
        var random = RandomStream(seed: 1)
        let block = TransformerBlock("block", width: 8, heads: 2, random: &random)
        let url = temporaryFile("block.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let special = Tensor(shape: [4], values: [.nan, -0.0, .infinity, Float.leastNonzeroMagnitude])
        try SafeTensors.write(block.namedTensors.merging(["special": special]) { a, _ in a },
                              metadata: ["config": "{\"width\": 8}", "note": "quote \" and\nnewline"], to: url)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path + ".partial"))
        let (tensors, metadata) = try SafeTensors.read(url, requireFinite: false)
        XCTAssertEqual(metadata["config"], "{\"width\": 8}")
        XCTAssertEqual(metadata["note"], "quote \" and\nnewline")
        var other = RandomStream(seed: 2)
        let restored = TransformerBlock("block", width: 8, heads: 2, random: &other)
        try SafeTensors.load(tensors, into: restored.parameters)
        for (a, b) in zip(block.parameters, restored.parameters) {
            XCTAssertEqual(a.value.values.map(\.bitPattern), b.value.values.map(\.bitPattern), a.name)
        }
        XCTAssertEqual(tensors["special"]!.values.map(\.bitPattern), special.values.map(\.bitPattern))
    }

    func testLoadingReportsMissingAndMisshapenTensors() throws {
        var random = RandomStream(seed: 3)
        let layer = Linear("dense", inputs: 3, outputs: 2, random: &random)
        XCTAssertThrowsError(try SafeTensors.load(["dense.weight": Tensor(shape: [2, 3])], into: layer.parameters)) {
            XCTAssertEqual($0 as? CheckpointError, .missingTensor("dense.bias"))
        }
        XCTAssertThrowsError(try SafeTensors.load(["dense.weight": Tensor(shape: [3, 2]), "dense.bias": Tensor(shape: [2])],
                                                  into: layer.parameters)) {
            XCTAssertEqual("\($0)", "checkpoint tensor 'dense.weight' has shape [3, 2], the model expects [2, 3]")
        }
        XCTAssertThrowsError(try SafeTensors.load(layer.namedTensors.merging(["extra": Tensor(shape: [1])]) { a, _ in a },
                                                  into: layer.parameters, allowExtra: false))
    }

    func testMalformedFilesGiveClearErrors() throws {
        let url = temporaryFile("bad.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([1, 2, 3]).write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(url)) { XCTAssertTrue("\($0)".contains("shorter than 8 bytes")) }
        var bytes = Data()
        withUnsafeBytes(of: UInt64(2).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array("[]".utf8))
        try bytes.write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(url)) { XCTAssertTrue("\($0)".contains("not a JSON object")) }
        XCTAssertThrowsError(try SafeTensors.read(temporaryFile("absent"))) { XCTAssertTrue("\($0)".contains("cannot read")) }
    }

    /// Tensors asked for in Float16 take 2 bytes a value and read back as the nearest Float16
    /// (ties to even, subnormals included); the others stay bit-exact.
    func testFloat16StorageRoundsToNearestAndHalvesTheBytes() throws {
        let url = temporaryFile("half.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let third: Float = 1 / 3
        let values: [Float] = [0, -0.0, third, -2.5e-8, 65504, -65504, 1 + 1 / 2048, 1 + 3 / 2048, 6.1e-5, 1e-3]
        let half = Tensor(shape: [2, 5], values: values), full = Tensor(shape: [2, 5], values: values)
        try SafeTensors.write(["half": half, "full": full], float16: ["half"], to: url)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let (plain, _) = try SafeTensors.read(url)
        try SafeTensors.write(["half": half, "full": full], to: url)
        let fullSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        XCTAssertEqual(fullSize - size, 2 * values.count, accuracy: 8, "2 bytes saved per Float16 value (header padding aside)")
        XCTAssertEqual(plain["full"]!.values.map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(plain["half"]!.shape, [2, 5])
        // The reference: round to nearest, ties to even, by hand on the binary expansion.
        func nearestHalf(_ x: Float) -> Float {
            if x == 0 { return x }
            let magnitude = abs(Double(x))
            let exponent = max(Int(floor(log2(magnitude))), -14)  // subnormals share the smallest exponent
            let step = pow(2.0, Double(exponent - 10))
            let units = magnitude / step, below = floor(units)
            let rounded = units - below > 0.5 || (units - below == 0.5 && Int(below) % 2 == 1) ? below + 1 : below
            return Float((x < 0 ? -1 : 1) * rounded * step)
        }
        for (read, x) in zip(plain["half"]!.values, values) {
            XCTAssertEqual(read.bitPattern, nearestHalf(x).bitPattern, "\(x) → \(read), expected \(nearestHalf(x))")
        }
        XCTAssertEqual(plain["half"]!.values[6], 1, "1 + 1/2048 is a tie: to even, 1")
        XCTAssertEqual(plain["half"]!.values[7], 1 + 2 / 1024, "1 + 3/2048 is a tie: to even, 1 + 2/1024")
    }

    /// A value Float16 cannot hold is refused before anything is written.
    func testFloat16RefusesValuesItCannotStore() throws {
        let url = temporaryFile("overflow.safetensors")
        for bad in [Float(65520), -1e6, .nan, .infinity] {
            XCTAssertThrowsError(try SafeTensors.write(["w": Tensor(shape: [3], values: [1, bad, 2])], float16: ["w"], to: url)) {
                XCTAssertTrue("\($0)".contains("tensor 'w' holds \(bad) at index 1, which Float16 cannot store"), "\($0)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path + ".partial"))
        }
    }

    /// Python's `safetensors` (in the validator environment) reads our file with the same values.
    func testPythonSafetensorsReadsOurFile() throws {
        let python = try validatorPython(importing: ["safetensors", "numpy"])
        let url = temporaryFile("py.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let a = randomTensor([2, 3], seed: 4), b = randomTensor([5], seed: 5), h = randomTensor([3, 2], seed: 6)
        try SafeTensors.write(["a": a, "b.c": b, "h": h], metadata: ["format": "ensemblegen"], float16: ["h"], to: url)
        let halved = try SafeTensors.read(url).tensors["h"]!
        let script = """
        import json, sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="numpy") as f:
            meta = f.metadata()
        print(json.dumps({k: {"shape": list(v.shape), "dtype": str(v.dtype), "values": v.ravel().tolist()} for k, v in t.items()} | {"__metadata__": meta}))
        """
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", script, url.path]
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            let message = String(data: errors.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
            XCTFail("python failed: \(message)")
            return
        }
        let decoded = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        XCTAssertEqual((decoded["__metadata__"] as? [String: String])?["format"], "ensemblegen")
        for (name, tensor, dtype) in [("a", a, "float32"), ("b.c", b, "float32"), ("h", halved, "float16")] {
            let entry = try XCTUnwrap(decoded[name] as? [String: Any])
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape)
            XCTAssertEqual(entry["dtype"] as? String, dtype)
            XCTAssertEqual((entry["values"] as? [Double])?.map(Float.init), tensor.values, "values of \(name)")
        }
    }

    /// A checkpoint holding NaN or Inf is refused when read: it would make every output NaN.
    func testNonFiniteValuesAreRefused() throws {
        let url = temporaryFile("nan.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        for bad in [Float.nan, .infinity] {
            try SafeTensors.write(["w": Tensor(shape: [3], values: [1, bad, 2])], metadata: [:], to: url)
            XCTAssertThrowsError(try SafeTensors.read(url)) {
                XCTAssertTrue("\($0)".contains("tensor 'w' holds \(bad) at index 1: the file is damaged or comes from a diverged training"), "\($0)")
            }
        }
    }
}
