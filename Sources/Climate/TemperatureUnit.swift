/// A temperature unit recognised in a CF `units` attribute, and the conversion to kelvin.
public enum TemperatureUnit: String, Sendable, CaseIterable {
    case kelvin = "K"
    case celsius = "degC"
    case fahrenheit = "degF"

    /// Parses a `units` attribute. Recognised spellings: `K`, `kelvin`, `degK`, `deg_K`,
    /// `degrees_K`; `degC`, `Celsius`, `deg_C`, `degrees_C`, `degree_Celsius`, `°C`;
    /// `degF`, `Fahrenheit`, `deg_F`, `degrees_F`, `°F`. Returns nil for anything else.
    public init?(cfUnits text: String) {
        let u = text.trimmed()
        switch u {
        case "K", "degK", "deg_K", "degree_K", "degrees_K", "degreeK", "degreesK": self = .kelvin
        case "degC", "deg_C", "degree_C", "degrees_C", "degreeC", "degreesC", "°C": self = .celsius
        case "degF", "deg_F", "degree_F", "degrees_F", "degreeF", "degreesF", "°F": self = .fahrenheit
        default:
            switch u.lowercased() {
            case "kelvin", "kelvins": self = .kelvin
            case "celsius", "degree_celsius", "degrees_celsius", "degree celsius", "degrees celsius": self = .celsius
            case "fahrenheit", "degree_fahrenheit", "degrees_fahrenheit": self = .fahrenheit
            default: return nil
            }
        }
    }

    /// The list shown in error messages.
    public static let recognisedSpellings = "K, degC, Celsius, deg_C, degF"

    /// Converts a value in this unit to kelvin.
    @inline(__always)
    public func toKelvin(_ x: Double) -> Double {
        switch self {
        case .kelvin: return x
        case .celsius: return x + 273.15
        case .fahrenheit: return (x - 32) * (5.0 / 9.0) + 273.15
        }
    }

    /// Converts a value in kelvin to this unit.
    @inline(__always)
    public func fromKelvin(_ x: Double) -> Double {
        switch self {
        case .kelvin: return x
        case .celsius: return x - 273.15
        case .fahrenheit: return (x - 273.15) * (9.0 / 5.0) + 32
        }
    }
}

extension String {
    /// The string without leading and trailing blanks, tabs and newlines.
    func trimmed() -> String {
        let set: Set<Character> = [" ", "\t", "\n", "\r"]
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
