import Climate
import Foundation
import Models

/// What determines the weights a training run ends with, saved with its resumable state so
/// that `--resume` with other options is refused instead of silently training another model.
/// Codable and made of named fields, so that a refusal names each field that differs.
struct RunFingerprint: Codable, Equatable {
    /// The data files as given, and their content digests (a file regenerated at the same
    /// path is other data).
    var data: [String]
    var dataDigests: [String]
    var trainingMembers: [Int]
    var seed: UInt64
    var schedule: Schedule
    /// Set for a VAE run.
    var vae: VAEOptions?
    /// Set for a diffusion run.
    var diffusion: DiffusionOptions?

    struct Schedule: Codable, Equatable {
        var epochs: Int
        var stepsPerEpoch: Int
        /// Fields drawn per epoch (VAE); the diffusion model draws `batchSize` windows per step.
        var samplesPerEpoch: Int?
        var batchSize: Int
        var batchParts: Int
        var learningRate: Float
    }

    struct VAEOptions: Codable, Equatable {
        var architecture: VAEConfiguration
        var scaling: AnomalyNormalization.Scaling
        /// Set (true) when the global mean is a latent value of its own.
        var separateGlobalMean: Bool?
    }

    struct DiffusionOptions: Codable, Equatable {
        /// The VAE whose latents are modelled, by content.
        var vaeDigest: String
        var conditioningMember: Int
        /// Set when training on many conditioning members (nil: the one above).
        var conditioningMembers: [Int]?
        var architecture: DiffusionConfiguration
        var emaDecay: Float
        var seasonalScaling: Bool
        var innovationOrder: Int
        var whitened: Bool
        var whiteningFloor: Float
        var conditioningForm: ConditioningForm
    }

    /// Every field in declaration order, nested options flattened, as (name in words, value):
    /// read by reflection so that a field added later is compared and named without more code.
    var fields: [(name: String, value: String)] { Self.fields(of: self) }

    /// "channels (saved 16,32,64, now 8,16) and seed (saved 1, now 2)": the fields whose
    /// values differ between `saved` and this run.
    func differences(from saved: RunFingerprint) -> String {
        let before = Dictionary(saved.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let now = fields
        let names = Set(now.map(\.name))
        var changes = now.compactMap { field -> String? in
            let old = before[field.name] ?? "none"
            return old == field.value ? nil : "\(field.name) (saved \(old), now \(field.value))"
        }
        changes += saved.fields.filter { !names.contains($0.name) }.map { "\($0.name) (saved \($0.value), now none)" }
        guard let last = changes.popLast() else { return "options not shown" }
        return changes.isEmpty ? last : changes.joined(separator: ", ") + " and " + last
    }

    private static func fields(of value: Any) -> [(name: String, value: String)] {
        Mirror(reflecting: value).children.flatMap { child -> [(name: String, value: String)] in
            let name = words(child.label ?? "?")
            var value = child.value
            if Mirror(reflecting: value).displayStyle == .optional {
                guard let wrapped = Mirror(reflecting: value).children.first?.value else { return [(name, "none")] }
                value = wrapped
            }
            if Mirror(reflecting: value).displayStyle == .struct { return fields(of: value) }
            return [(name, text(value))]
        }
    }

    private static func text(_ value: Any) -> String {
        if let flag = value as? Bool { return flag ? "yes" : "no" }
        if Mirror(reflecting: value).displayStyle == .collection {
            return Mirror(reflecting: value).children.map { text($0.value) }.joined(separator: ",")
        }
        return "\(value)"
    }

    /// "trainingMembers" → "training members".
    private static func words(_ label: String) -> String {
        label.reduce(into: "") { result, c in
            if c.isUppercase { result += " " + c.lowercased() } else { result.append(c) }
        }
    }
}
