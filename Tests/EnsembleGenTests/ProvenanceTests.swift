import Foundation
import TestEnvironment
import XCTest
import NetCDF
import Climate
@testable import EnsembleGen

/// Provenance through `merge` and the training record, on small CMIP-style members written
/// here (always on; CMIP6IntegrationTests does the same on the real IPSL files when present):
/// global attributes common to the members kept and per-member ones not, variant labels on the
/// realization coordinate, `height`, `cell_methods` verbatim, `cell_measures` with
/// `external_variables`, calendar-month time bounds, and the history chain.
final class ProvenanceTests: TemporaryDirectoryTestCase {
    /// A one-member CMIP6-style monthly `tas` file (2 years, noleap, 4 × 8 grid) named like
    /// `tas_Amon_FAKE-ESM_historical_r<k>i1p1f1_gn.nc`, without time bounds.
    @discardableResult
    func cmipMember(_ k: Int, history: String, variantAttribute: Bool = true, annual: Bool = false) throws -> String {
        let file = path("tas_Amon_FAKE-ESM_historical_r\(k)i1p1f1_gn\(annual ? "_ann" : "").nc")
        var time = TimeAxis.monthly(startYear: 1850, endYear: 1851, calendar: .noLeap)
        // Annual means of 24 years that still claim the monthly CMIP frequency (as cmip6-ng's do).
        if annual { time.values = (0..<24).map { 182.5 + 365 * Double($0) }; time.bounds = nil }
        let f = try NetCDFFile.create(file, format: .netCDF4)
        let t = try f.addDimension("time", length: time.count), y = try f.addDimension("lat", length: 4), x = try f.addDimension("lon", length: 8)
        let tv = try f.addVariable("time", type: .double, dimensions: [t])
        for (a, v) in [("units", "days since 1850-01-01"), ("calendar", "noleap"), ("standard_name", "time"), ("axis", "T")] {
            try tv.setAttribute(a, .text(v))
        }
        let lat = try f.addVariable("lat", type: .double, dimensions: [y])
        for (a, v) in [("units", "degrees_north"), ("standard_name", "latitude"), ("axis", "Y")] { try lat.setAttribute(a, .text(v)) }
        let lon = try f.addVariable("lon", type: .double, dimensions: [x])
        for (a, v) in [("units", "degrees_east"), ("standard_name", "longitude"), ("axis", "X")] { try lon.setAttribute(a, .text(v)) }
        let height = try f.addVariable("height", type: .double, dimensions: [])
        for (a, v) in [("units", "m"), ("standard_name", "height"), ("long_name", "height"), ("positive", "up"), ("axis", "Z")] {
            try height.setAttribute(a, .text(v))
        }
        let tas = try f.addVariable("tas", type: .float, dimensions: [t, y, x])
        for (a, v) in [("units", "K"), ("standard_name", "air_temperature"), ("long_name", "Near-Surface Air Temperature"),
                       ("coordinates", "height"), ("cell_methods", "area: time: mean"), ("cell_measures", "area: areacella")] {
            try tas.setAttribute(a, .text(v))
        }
        var globals: [(String, AttributeValue)] = [
            ("Conventions", "CF-1.7 CMIP-6.2"), ("institution", "Fake Institute, Nowhere"), ("source", "FAKE-ESM (2020)"),
            ("source_id", "FAKE-ESM"), ("experiment_id", "historical"), ("parent_experiment_id", "piControl"),
            ("license", "CC BY 4.0"), ("external_variables", "areacella"), ("history", .text(history)), ("frequency", "mon"),
            ("tracking_id", .text("hdl:21.14100/\(UUID().uuidString)")), ("creation_date", .text("2019-0\(k)-01T00:00:00Z")),
            ("realization_index", .int32([Int32(k)])), ("cmip6-ng", "not a CF name"), ("branch_time_in_parent", .double([21914])),
        ]
        if variantAttribute { globals.append(("variant_label", .text("r\(k)i1p1f1"))) }
        for (a, v) in globals { try f.setAttribute(a, v) }
        try tv.write(time.values)
        try lat.write([-67.5, -22.5, 22.5, 67.5])
        try lon.write((0..<8).map { Double($0) * 45 })
        try height.write([2.0])
        try tas.write((0..<(time.count * 32)).map { Float(270 + k) + Float($0 % 13) * 0.25 })
        try f.close()
        return file
    }

    /// The merged file keeps source_id, experiment_id, height, cell_methods and the variant
    /// labels; per-member attributes are gone; the history is one new line (absolute paths,
    /// version and commit) above the shared input history; it passes check-cf.sh.
    func testMergedCMIPStyleFileKeepsProvenance() throws {
        let shared = "Mon Jan  1 00:00:00 2024: cdo yearmonmean in.nc out.nc\nnone"
        // Member 2 has its variant label only in its file name.
        let inputs = [try cmipMember(1, history: shared), try cmipMember(2, history: shared, variantAttribute: false)]
        let out = path("merged.nc")
        let commandLine = ["ensemblegen", "merge"] + inputs + ["--output", out]
        let result = try MergePipeline.run(.init(inputs: inputs, output: out, commandLine: commandLine))
        XCTAssertEqual(result.members, ["r1i1p1f1", "r2i1p1f1"])
        try NetCDFFile.withFile(out) { f in
            for (name, value) in [("source_id", "FAKE-ESM"), ("experiment_id", "historical"), ("parent_experiment_id", "piControl"),
                                  ("license", "CC BY 4.0"), ("institution", "Fake Institute, Nowhere"), ("external_variables", "areacella"),
                                  ("Conventions", "CF-1.8"), ("frequency", "mon")] {
                XCTAssertEqual(try f.attribute(name)?.text, value, name)
            }
            XCTAssertEqual(try f.attribute("branch_time_in_parent"), .double([21914]))
            for perMember in ["variant_label", "realization_index", "tracking_id", "creation_date", "cmip6-ng"] {
                XCTAssertNil(try f.attribute(perMember), "\(perMember) is not true of the merged file")
            }
            let tas = try XCTUnwrap(f.variable("tas"))
            XCTAssertEqual(try tas.attribute("cell_methods")?.text, "area: time: mean")
            XCTAssertEqual(try tas.attribute("cell_measures")?.text, "area: areacella")
            let height = try XCTUnwrap(f.variable("height"))
            XCTAssertEqual(try height.read(Double.self), [2])
            XCTAssertEqual(try height.attribute("units")?.text, "m")
            let realization = try XCTUnwrap(f.variable("realization"))
            XCTAssertEqual(try realization.read(Int32.self), [1, 2])
            XCTAssertEqual(try realization.attribute("member_labels")?.text, "r1i1p1f1 r2i1p1f1")
            // Month edges of the noleap calendar, not midpoints between the values.
            let bounds = try XCTUnwrap(f.variable("time_bnds")).read(Double.self)
            XCTAssertEqual(Array(bounds.prefix(6)), [0, 31, 31, 59, 59, 90])
            let history = try XCTUnwrap(f.attribute("history")?.text).components(separatedBy: "\n")
            XCTAssertEqual(history.count, 3, "one new line above the shared history, kept once")
            XCTAssertTrue(history[0].hasSuffix("ensemblegen merge \(inputs[0]) \(inputs[1]) --output \(out) (EnsembleGen \(EnsembleGenVersion.number), commit \(EnsembleGenVersion.commit))"), history[0])
            XCTAssertEqual(Array(history[1...]), shared.components(separatedBy: "\n"))
        }
        // Read back: the reader finds the same labels, scalar coordinate and cell methods.
        let reader = try EnsembleReader(path: out, requirements: .inspection)
        XCTAssertEqual(reader.members, ["r1i1p1f1", "r2i1p1f1"])
        XCTAssertEqual(reader.scalarCoordinates.map(\.name), ["height"])
        XCTAssertEqual(reader.variable.cellMethods, "area: time: mean")
        try reader.close()
        let check = try runCheckCF(out)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("cfchecks: 0 errors, 0 warnings"), check.stdout)
    }

    /// Annual means whose `frequency` still says `mon`: the merged file says `yr`, and its new
    /// history line says why.
    func testMergeCorrectsAFrequencyTheTimeAxisContradicts() throws {
        let inputs = [try cmipMember(1, history: "h", annual: true), try cmipMember(2, history: "h", annual: true)]
        let out = path("merged-annual.nc")
        _ = try MergePipeline.run(.init(inputs: inputs, output: out, commandLine: ["ensemblegen", "merge"]))
        try NetCDFFile.withFile(out) { f in
            XCTAssertEqual(try f.attribute("frequency")?.text, "yr")
            let history = try XCTUnwrap(f.attribute("history")?.text)
            XCTAssertTrue(history.contains("; frequency mon corrected to yr: the time axis is annual"), history)
        }
    }

    /// Inputs with different histories: the first input's is kept, and the new line says so.
    func testMergeOfDifferentHistoriesKeepsTheFirstAndSaysSo() throws {
        let inputs = [try cmipMember(1, history: "step a"), try cmipMember(2, history: "step b")]
        let out = path("merged.nc")
        _ = try MergePipeline.run(.init(inputs: inputs, output: out, commandLine: ["ensemblegen", "merge"]))
        let history = try NetCDFFile.withFile(out) { try XCTUnwrap($0.attribute("history")?.text) }.components(separatedBy: "\n")
        XCTAssertEqual(history.count, 2)
        XCTAssertTrue(history[0].hasSuffix("the older history below is that of \(inputs[0]) (the inputs' histories differ)"), history[0])
        XCTAssertEqual(history[1], "step a")
    }

    /// SHA-256 against the FIPS 180-4 examples and a file across read blocks.
    func testSHA256() throws {
        XCTAssertEqual(FileDigest.sha256(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(FileDigest.sha256(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(FileDigest.sha256(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let file = path("million-a")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try FileDigest.sha256(path: file), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The training record keeps every key already there (Data/default's) and adds the step.
    func testTrainingRecordMergesWithExistingKeys() throws {
        let model = path("model")
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        let shipped = repositoryRoot.appendingPathComponent("Data/default/\(TrainingRecord.fileName)")
        try FileManager.default.copyItem(atPath: shipped.path, toPath: (model as NSString).appendingPathComponent(TrainingRecord.fileName))
        let before = try XCTUnwrap(try TrainingRecord.read(directory: model))
        let data = try cmipMember(1, history: "none")
        let reader = try EnsembleReader(path: data, requirements: .inspection)
        defer { try? reader.close() }
        try TrainingRecord.update(directory: model, step: "vae", data: [data], reader: reader, trainingMembers: [0],
                                  started: Date(timeIntervalSinceNow: -2), commandLine: ["ensemblegen", "train-vae", "--data", data])
        let after = try XCTUnwrap(try TrainingRecord.read(directory: model))
        XCTAssertTrue(Set(before.keys).isSubset(of: Set(after.keys)), "keys dropped: \(Set(before.keys).subtracting(after.keys))")
        XCTAssertEqual(after["conditioning_members"] as? String, before["conditioning_members"] as? String)
        XCTAssertEqual((after["evaluation"] as? NSDictionary), (before["evaluation"] as? NSDictionary))
        let durations = try XCTUnwrap(after["durations_seconds"] as? [String: Any])
        XCTAssertEqual(durations["transformer"] as? Int, 1242, "other steps' durations kept")
        XCTAssertEqual(durations["vae"] as? Int, 2)
        let sha = try FileDigest.sha256(path: data)
        // The file digest goes to data_sha256; data_tas_sha256 (the script's digest of the tas values) is left alone.
        XCTAssertEqual(after["data_sha256"] as? [String: String], [data: sha])
        XCTAssertEqual(after["data_tas_sha256"] as? String, before["data_tas_sha256"] as? String)
        XCTAssertEqual(after["data_source_id"] as? String, "FAKE-ESM")
        XCTAssertEqual(after["data_experiment_id"] as? String, "historical")
        XCTAssertEqual(after["training_members"] as? String, "0")
        let command = try XCTUnwrap((after["commands"] as? [String: Any])?["vae"] as? [String: Any])
        XCTAssertEqual(command["ensemblegen_commit"] as? String, EnsembleGenVersion.commit)
        XCTAssertEqual(command["training_members"] as? String, "0")
        XCTAssertEqual((command["data_sha256"] as? [String: String])?[data], sha)
        XCTAssertTrue((command["command_line"] as? String)?.contains("train-vae --data \(data)") == true)
        let summary = try XCTUnwrap(try TrainingRecord.summary(directory: model))
        XCTAssertEqual(summary, TrainingRecord.Summary(sourceID: "FAKE-ESM", experimentID: "historical", dataSHA256: sha,
                                                       trainingMembers: "0", version: EnsembleGenVersion.string))
        // A damaged record is refused, naming the file, not silently replaced.
        try Data("[1, 2".utf8).write(to: URL(fileURLWithPath: (model as NSString).appendingPathComponent(TrainingRecord.fileName)))
        XCTAssertThrowsError(try TrainingRecord.summary(directory: model)) { error in
            XCTAssertTrue("\(error)".contains("training.json: not a JSON object"), "\(error)")
        }
    }

    /// The version names a commit: a hex hash (with -dirty) in a checkout, else `unknown`.
    func testVersionCarriesTheCommit() throws {
        let commit = EnsembleGenVersion.commit
        XCTAssertTrue(commit == "unknown" || commit.range(of: "^[0-9a-f]{7,40}(-dirty)?$", options: .regularExpression) != nil, commit)
        XCTAssertEqual(EnsembleGenVersion.string, "\(EnsembleGenVersion.number) (commit \(commit))")
        if FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(".git").path) {
            XCTAssertNotEqual(commit, "unknown", "built in a git checkout")
        }
    }
}
