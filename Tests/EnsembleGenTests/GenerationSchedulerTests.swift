import Foundation
import Tensor
import XCTest
@testable import EnsembleGen

/// The scheduler that shares the cores between sampling and decoding.
final class GenerationSchedulerTests: XCTestCase {
    struct WriteFailed: Error {}

    /// Runs 37 members in groups of 8 on 2 workers with a fake sampler (series = [position])
    /// and decoder (fields = [position · 10]); returns what was written and the most members
    /// ever held between sampling and writing.
    private func run(limit: Int, failAt: Int? = nil) throws -> (written: [Int: [Float]], held: Int, sampledSeen: Int) {
        let threads = ComputeThreads.count
        defer { ComputeThreads.configure(threads) }
        ComputeThreads.configure(2)
        let lock = NSLock()
        var written: [Int: [Float]] = [:], sampled = 0, held = 0, sampledSeen = 0
        try GenerationScheduler(memberCount: 37, groupSize: 8, workers: 2, limit: limit).run(sample: { positions, monthsDone in
            monthsDone(1)
            lock.lock(); sampled += positions.count; held = max(held, sampled - written.count); lock.unlock()
            return positions.map { [Float($0)] }
        }, decode: { position, series in
            XCTAssertEqual(series, [Float(position)])
            return [Float(position * 10)]
        }, write: { position, fields in
            if position == failAt { throw WriteFailed() }
            lock.lock(); XCTAssertNil(written[position], "position \(position) written twice"); written[position] = fields; lock.unlock()
        }, report: { counts in
            sampledSeen = max(sampledSeen, counts.sampled)
        })
        return (written, held, sampledSeen)
    }

    func testEveryMemberIsDecodedAndWrittenOnceWithinTheLimit() throws {
        for limit in [1, 8, 20, 100] {
            let result = try run(limit: limit)
            XCTAssertEqual(result.written.count, 37, "limit \(limit)")
            for (position, fields) in result.written { XCTAssertEqual(fields, [Float(position * 10)]) }
            XCTAssertLessThanOrEqual(result.held, max(limit, 8), "limit \(limit): members held")
            XCTAssertEqual(result.sampledSeen, 37)
        }
    }

    /// Groups cover the members once, in order, at most groupSize each, of sizes within one of
    /// each other, and one per worker while there are members enough.
    func testSamplingGroupsCoverTheMembersAndUseEveryWorker() {
        for (members, workers) in [(1, 2), (2, 2), (3, 2), (16, 2), (17, 2), (33, 2), (100, 2), (100, 8), (5, 8), (0, 2)] {
            let groups = GenerationScheduler.samplingGroups(memberCount: members, groupSize: 16, workers: workers)
            XCTAssertEqual(groups.flatMap { Array($0) }, Array(0..<members), "\(members) on \(workers)")
            XCTAssertTrue(groups.allSatisfy { !$0.isEmpty && $0.count <= 16 }, "\(members) on \(workers): \(groups)")
            XCTAssertLessThanOrEqual((groups.map(\.count).max() ?? 0) - (groups.map(\.count).min() ?? 0), 1, "\(groups)")
            XCTAssertEqual(groups.count, max((members + 15) / 16, min(members, workers)), "\(members) on \(workers)")
        }
    }

    func testAWriteFailureStopsTheRunAndIsThrown() {
        XCTAssertThrowsError(try run(limit: 16, failAt: 5)) { XCTAssertTrue($0 is WriteFailed, "\($0)") }
    }
}
