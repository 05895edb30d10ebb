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

    /// Python's `safetensors` (in the validator environment) reads our file with the same values.
    func testPythonSafetensorsReadsOurFile() throws {
        let python = try validatorPython(importing: ["safetensors", "numpy"])
        let url = temporaryFile("py.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let a = randomTensor([2, 3], seed: 4), b = randomTensor([5], seed: 5)
        try SafeTensors.write(["a": a, "b.c": b], metadata: ["format": "ensemblegen"], to: url)
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
        for (name, tensor) in [("a", a), ("b.c", b)] {
            let entry = try XCTUnwrap(decoded[name] as? [String: Any])
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape)
            XCTAssertEqual(entry["dtype"] as? String, "float32")
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
