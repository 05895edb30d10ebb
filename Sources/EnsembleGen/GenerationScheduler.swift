import Foundation
import Models
import Tensor

/// Shares the cores between sampling groups of members and decoding sampled members.
///
/// Each worker (one per core) takes the next group to sample while fewer than `limit`
/// members are sampled but not yet written, and otherwise decodes and writes a sampled
/// member. Workers therefore drift apart: one samples the next group while the other
/// decodes the last one, and a final group smaller than one per core no longer leaves a
/// core idle. Every group is sampled, and every member decoded, by one worker with
/// single-threaded GEMMs, so the numbers do not depend on which worker did what.
final class GenerationScheduler: @unchecked Sendable {
    /// Progress seen by `report`: members written and sampled, and the months sampled so far
    /// by the oldest group still being sampled (nil when none is).
    struct Counts: Sendable {
        var written = 0, sampled = 0
        var monthsSampled: Int?
    }

    private let groups: [Range<Int>]
    private let limit: Int
    private let condition = NSCondition()
    private var nextGroup = 0
    private var ready: [(position: Int, series: [Float])] = []
    private var sampling: [Int: Int] = [:]  // group index → months sampled
    private var counts = Counts()
    private var failure: Error?

    /// - Parameters:
    ///   - memberCount: members to generate (positions 0..<memberCount).
    ///   - groupSize: the most members per sampling group.
    ///   - workers: workers sampling at once (`samplingGroups`).
    ///   - limit: members held between sampling and writing (at least one group is always allowed).
    init(memberCount: Int, groupSize: Int, workers: Int, limit: Int) {
        groups = Self.samplingGroups(memberCount: memberCount, groupSize: groupSize, workers: workers)
        self.limit = limit
    }

    /// Consecutive groups of at most `groupSize` members, of equal sizes (±1), and at least
    /// one per worker while there are members enough: 2 members on 2 workers are sampled one
    /// per core, not as one group on one core.
    static func samplingGroups(memberCount: Int, groupSize: Int, workers: Int) -> [Range<Int>] {
        guard memberCount > 0 else { return [] }
        let count = max((memberCount + groupSize - 1) / groupSize, min(memberCount, max(workers, 1)))
        return (0..<count).map { memberCount * $0 / count..<memberCount * ($0 + 1) / count }
    }

    private enum Task {
        case sample(Int)
        case decode(position: Int, series: [Float])
    }

    /// Runs all groups. `sample(positions, monthsDone)` returns the normalised residual series
    /// of those positions; `decode` turns a series into fields; `write` stores them (called
    /// one at a time); `report` sees the counts after every change (called one at a time).
    func run(sample: (Range<Int>, @escaping (Int) -> Void) -> [[Float]], decode: (Int, [Float]) -> [Float],
             write: (Int, [Float]) throws -> Void, report: @escaping (Counts) -> Void) throws {
        let writeLock = NSLock()
        ComputeThreads.concurrently(jobs: max(groups.count, ComputeThreads.count)) { _, _ in
            while let task = nextTask() {
                switch task {
                case .sample(let index):
                    let series = sample(groups[index]) { months in self.update(report) { self.sampling[index] = months } }
                    update(report) {
                        sampling[index] = nil
                        ready += zip(groups[index], series).map { ($0, $1) }
                        counts.sampled += groups[index].count
                    }
                case .decode(let position, let series):
                    let fields = decode(position, series)
                    do {
                        writeLock.lock()
                        defer { writeLock.unlock() }
                        try write(position, fields)
                    } catch {
                        update(report) { failure = failure ?? error }
                        continue
                    }
                    update(report) { counts.written += 1 }
                }
            }
        }
        if let failure { throw failure }
    }

    /// Members handed out for sampling and not yet written (groups are contiguous from 0).
    private var outstanding: Int { (nextGroup == 0 ? 0 : groups[nextGroup - 1].upperBound) - counts.written }

    /// The next task for a worker, waiting while none is available; nil when all work is
    /// taken or a write failed.
    private func nextTask() -> Task? {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil {
            if nextGroup < groups.count, outstanding == 0 || outstanding + groups[nextGroup].count <= limit {
                nextGroup += 1
                sampling[nextGroup - 1] = 0
                return .sample(nextGroup - 1)
            }
            if !ready.isEmpty {
                let item = ready.removeFirst()
                return .decode(position: item.position, series: item.series)
            }
            if nextGroup == groups.count && sampling.isEmpty { return nil }
            condition.wait()
        }
        return nil
    }

    /// Applies `change` under the lock, reports the counts and wakes waiting workers.
    private func update(_ report: (Counts) -> Void, _ change: () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        change()
        counts.monthsSampled = sampling.keys.min().flatMap { sampling[$0] }
        report(counts)
        condition.broadcast()
    }
}
