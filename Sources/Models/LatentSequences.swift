// The training examples of the diffusion model: residual series and the conditioning
// series they are relative to, one conditioning member or many.

import RandomStreams

/// Normalised latent series and how training pairs (conditioning c, target k) are drawn
/// from them. Two layouts:
/// - one conditioning series: `series` are the residuals z_k − z_c of the target members
///   (the only layout sampling needs: conditioning only, no series);
/// - many conditioning members (`init(members:…)`): `series` are the members' own latents
///   (centred and normalised by the same linear map as residuals) and the residual of a pair
///   is series[k] − series[c], formed when a window is drawn, so memory grows with the
///   members, not with the pairs.
public struct LatentSequences: Sendable {
    /// [S, T, D], normalised: residuals, or member series whose differences are residuals.
    public private(set) var series: [Float]
    /// [R, T, C], normalised: R conditioning series; C = D, or 2·D for `ConditioningForm.both`.
    public private(set) var conditioning: [Float]
    /// Per conditioning series, the index into `series` of its own member, subtracted from a
    /// target to form a residual (nil: the series are residuals against it already).
    public private(set) var references: [Int?]
    /// Per conditioning series, the indices into `series` of the targets it is paired with.
    public private(set) var targets: [[Int]]
    /// Calendar month 1–12 of each of the T months.
    public let monthsOfYear: [Int]
    /// Latent dimension D.
    public let dimension: Int

    /// One conditioning series [T, C] and residual series [M, T, D] against it (M may be 0
    /// when only sampling).
    public init(residuals: [Float], conditioning: [Float], monthsOfYear: [Int], dimension: Int) {
        precondition(!monthsOfYear.isEmpty && conditioning.count % (monthsOfYear.count * dimension) == 0
                     && conditioning.count / monthsOfYear.count >= dimension
                     && residuals.count % (monthsOfYear.count * dimension) == 0, "latent sequences: inconsistent sizes")
        series = residuals
        self.conditioning = conditioning
        self.monthsOfYear = monthsOfYear
        self.dimension = dimension
        references = [nil]
        targets = [Array(0..<(residuals.count / (monthsOfYear.count * dimension)))]
    }

    /// Many conditioning members: `members` [S, T, D] normalised member series, conditioning
    /// series [R, T, C] of the members at `conditioningIndices` (R indices into `members`),
    /// and `targetIndices` into `members`: pair (c, k) for every conditioning member c and
    /// every target k ≠ c. Throws when a conditioning member has no target besides itself.
    public init(members: [Float], conditioning: [Float], conditioningIndices: [Int], targetIndices: [Int],
                monthsOfYear: [Int], dimension: Int) throws {
        let T = monthsOfYear.count, s = members.count / max(T * dimension, 1)
        precondition(T > 0 && members.count == s * T * dimension && !conditioningIndices.isEmpty
                     && conditioning.count % (conditioningIndices.count * T) == 0
                     && (conditioningIndices + targetIndices).allSatisfy { (0..<s).contains($0) }, "latent sequences: inconsistent sizes")
        series = members
        self.conditioning = conditioning
        self.monthsOfYear = monthsOfYear
        self.dimension = dimension
        references = conditioningIndices
        targets = conditioningIndices.map { c in targetIndices.filter { $0 != c } }
        guard targets.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalidConfiguration("a conditioning member needs at least one other training member to be paired with")
        }
    }

    public var timeCount: Int { monthsOfYear.count }
    /// Conditioning values per month, C.
    public var conditioningWidth: Int { conditioning.count / (timeCount * references.count) }
    /// Training pairs (c, k) the examples are drawn from.
    public var pairCount: Int { targets.reduce(0) { $0 + $1.count } }

    /// A training example's conditioning series (index into the R), its target series and
    /// the series subtracted from it (nil: none).
    public struct Pair: Equatable, Sendable {
        public var conditioning: Int
        public var target: Int
        public var reference: Int?
    }

    /// A random pair: a conditioning series uniformly (no draw when there is one), then one
    /// of its targets uniformly. Every conditioning member is drawn equally often, and
    /// every pair with it.
    public func drawPair(_ random: inout RandomStream) -> Pair {
        let c = references.count == 1 ? 0 : min(Int(random.uniform() * Double(references.count)), references.count - 1)
        let candidates = targets[c]
        let k = candidates[min(Int(random.uniform() * Double(candidates.count)), candidates.count - 1)]
        return Pair(conditioning: c, target: k, reference: references[c])
    }

    /// The normalised residual of `pair` in month t, latent dimension e.
    @inline(__always)
    func residual(_ pair: Pair, month t: Int, dimension e: Int) -> Float {
        let row = t * dimension + e, length = timeCount * dimension
        let value = series[pair.target * length + row]
        guard let reference = pair.reference else { return value }
        return value - series[reference * length + row]
    }

    /// Calendar month (0 = January) of month index i, extended cyclically before 0 and after T − 1.
    func monthIndex(_ i: Int) -> Int {
        if i < 0 { return ((monthsOfYear[0] - 1 + i) % 12 + 12) % 12 }
        if i >= timeCount { return (monthsOfYear[timeCount - 1] - 1 + i - timeCount + 1) % 12 }
        return monthsOfYear[i] - 1
    }

    /// Month i of conditioning series `series`; beyond the end the last year repeats
    /// (padding of a final window); nil before the start.
    func conditioningRow(_ i: Int, series: Int) -> ArraySlice<Float>? {
        guard i >= 0 else { return nil }
        let row = i < timeCount ? i : timeCount - 12 + ((i - timeCount) % 12)
        let c = conditioningWidth, base = series * timeCount * c
        return conditioning[(base + max(row, 0) * c)..<(base + (max(row, 0) + 1) * c)]
    }
}
