import Climate
import Models

/// Which members condition and which are modelled in diffusion training: one conditioning
/// member c with every other training member as a target (residuals z_k − z_c), or many
/// conditioning members, each paired with every other training member.
struct TrainingPairs {
    /// Conditioning members (file indices); the first is the model's default conditioning series.
    let conditioning: [Int]
    /// Training members modelled as targets (one conditioning member: without it).
    let targets: [Int]
    let validation: [Int]
    /// One conditioning member: the residuals are formed once, before normalisation.
    var isSingle: Bool { conditioning.count == 1 }

    /// `conditioningMembers` (a member list) when given, else `conditioningMember`; a list
    /// must lie among the `training` members, a single member may lie outside them.
    init(conditioningMember: Int, conditioningMembers: String?, training: [Int], validation: [Int],
         memberCount: Int, file: String) throws {
        let chosen = try conditioningMembers.map { try MemberSelection.parse($0, count: memberCount, file: file) } ?? [conditioningMember]
        if chosen.count == 1 {
            let c = chosen[0]
            guard (0..<memberCount).contains(c) else {
                throw CFError(file: file, "conditioning member \(c) does not exist (0…\(memberCount - 1))")
            }
            guard !validation.contains(c) else {
                throw CFError(file: file, "conditioning member \(c) is a validation member; the validation members must be held out")
            }
            targets = training.filter { $0 != c }
            guard !targets.isEmpty else { throw CFError(file: file, "no training members besides the conditioning member") }
        } else {
            if let outside = chosen.first(where: { !training.contains($0) }) {
                throw CFError(file: file, "conditioning member \(outside) is not a training member (\(MemberSelection.describe(training))); many conditioning members are paired among the training members")
            }
            targets = training
        }
        conditioning = chosen
        self.validation = validation
    }

    /// The residuals the latent statistics are fitted on, [S, T, D]: with one conditioning
    /// member those of every target; with many, a fixed sample of pairs as large as the
    /// targets — each conditioning member c with the next ⌈targets / conditioning⌉ targets
    /// after it (cyclically, skipping c) — so memory does not grow with the pairs.
    func statisticsResiduals(_ latents: [Int: [Float]]) -> [Float] {
        let perMember = isSingle ? targets.count : (targets.count + conditioning.count - 1) / conditioning.count
        return statisticsPairs(perMember: perMember).flatMap { pair in
            zip(latents[pair.target]!, latents[pair.conditioning]!).map { $0 - $1 }
        }
    }

    /// (conditioning, target) member pairs of `statisticsResiduals`.
    func statisticsPairs(perMember: Int) -> [(conditioning: Int, target: Int)] {
        conditioning.flatMap { c -> [(conditioning: Int, target: Int)] in
            let others = targets.filter { $0 != c }
            let first = targets.firstIndex(of: c) ?? 0
            return (0..<min(perMember, others.count)).map { (c, others[(first + $0) % others.count]) }
        }
    }

    /// Normalised training and validation sequences. One conditioning member: its residuals.
    /// Many: each member's latents less the targets' mean, through the residuals' normalisation
    /// (linear, so the difference of two is the normalised residual of the pair).
    func sequences(_ latents: [Int: [Float]], statistics: LatentStatistics, monthsOfYear months: [Int],
                   dimension d: Int) throws -> (training: LatentSequences, validation: LatentSequences?) {
        let conditioningSeries = statistics.normalizeConditioning(conditioning.flatMap { latents[$0]! }, monthsOfYear: months)
        if isSingle {
            let zc = latents[conditioning[0]]!
            func sequences(_ members: [Int]) -> LatentSequences {
                let residuals = members.flatMap { m in zip(latents[m]!, zc).map { $0 - $1 } }
                return LatentSequences(residuals: statistics.normalizeResiduals(residuals, monthsOfYear: months),
                                       conditioning: conditioningSeries, monthsOfYear: months, dimension: d)
            }
            return (sequences(targets), validation.isEmpty ? nil : sequences(validation))
        }
        let members = targets + validation
        var mean = [Float](repeating: 0, count: months.count * d)
        for m in targets { for (i, z) in latents[m]!.enumerated() { mean[i] += z } }
        for i in mean.indices { mean[i] /= Float(targets.count) }
        let series = statistics.normalizeResiduals(members.flatMap { m in zip(latents[m]!, mean).map { $0 - $1 } }, monthsOfYear: months)
        let index = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($0.element, $0.offset) })
        func sequences(_ chosen: [Int]) throws -> LatentSequences {
            try LatentSequences(members: series, conditioning: conditioningSeries, conditioningIndices: conditioning.map { index[$0]! },
                                targetIndices: chosen.map { index[$0]! }, monthsOfYear: months, dimension: d)
        }
        return (try sequences(targets), validation.isEmpty ? nil : try sequences(validation))
    }
}
