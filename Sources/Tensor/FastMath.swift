/// Branch-free single-precision exp, erf and friends that the compiler can vectorise.
/// Accuracy: relative error below 3e-7 (about 2 ulp) for exp, absolute error below 3e-7 for erf
/// plus float rounding (checked against Foundation in the tests).
enum FastMath {
    /// e^x for x clamped to [-87.3, 88.7] (beyond: the float limits 0 and +inf-free max).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.3), 88.7)
        // x = n ln2 + r, |r| ≤ ln2/2, n integral. Adding and removing 1.5·2²³ rounds to the
        // nearest integer in float arithmetic (|x·log2 e| < 2²²), which vectorises on plain
        // SSE2, where `rounded()` is a call to rintf per element.
        let shifter: Float = 12_582_912
        let n = (clamped * 1.442_695_04 + shifter) - shifter
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        // e^r by a degree-6 Taylor polynomial (|r| ≤ 0.347: truncation error < 3e-8).
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
        return p * scale
    }

    /// Logistic sigmoid 1 / (1 + e^-x).
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Error function, Abramowitz & Stegun 7.1.26 (abs. error ≤ 1.5e-7): erf(x) = 1 − poly(t)·e^{−x²},
    /// t = 1/(1 + p|x|), with the sign restored.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var poly: Float = 1.061_405_429
        poly = poly * t - 1.453_152_027
        poly = poly * t + 1.421_413_741
        poly = poly * t - 0.284_496_736
        poly = poly * t + 0.254_829_592
        let y = 1 - poly * t * exp(-a * a)
        return x < 0 ? -y : y
    }
}
