import XCTest
@testable import RandomStreams

final class RandomStreamTests: XCTestCase {
    /// Known-answer vectors of Philox-4×32-10 published with Random123 (kat_vectors).
    func testPhiloxKnownAnswers() {
        var r = RandomStream.philox(counter: (0, 0, 0, 0), key: 0)
        XCTAssertEqual([r.0, r.1, r.2, r.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        r = RandomStream.philox(counter: (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), key: 0xffff_ffff_ffff_ffff)
        XCTAssertEqual([r.0, r.1, r.2, r.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        r = RandomStream.philox(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: 0x299f_31d0_a409_3822)
        XCTAssertEqual([r.0, r.1, r.2, r.3], [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func testRandomAccessMatchesSequential() {
        var a = RandomStream(seed: 42, stream: 7)
        var seq: [UInt32] = []
        for _ in 0..<40 { seq.append(a.nextUInt32()) }
        var b = RandomStream(seed: 42, stream: 7)
        b.seek(toBlock: 5)
        XCTAssertEqual(b.nextUInt32(), seq[20])
    }

    func testSubstreamsAreDistinctAndStable() {
        let root = RandomStream(seed: 1)
        var s1 = root.substream(3), s2 = root.substream(3), s3 = root.substream(4)
        XCTAssertEqual(s1.next(), s2.next())
        XCTAssertNotEqual(root.substream(3).stream, s3.stream)
        XCTAssertNotEqual(root.substream(1).substream(2).stream, root.substream(2).substream(1).stream)
        _ = s3.next()
    }

    /// Moments of 200 000 Gaussians: tolerances are 5 standard errors
    /// (mean: 1/√n; variance: √(2/n); skewness: √(6/n); kurtosis: √(24/n)).
    func testGaussianMoments() {
        var r = RandomStream(seed: 2024, stream: 1)
        let n = 200_000
        var m1 = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0
        for _ in 0..<n {
            let g = r.gaussian()
            m1 += g; m2 += g * g; m3 += g * g * g; m4 += g * g * g * g
        }
        let dn = Double(n)
        m1 /= dn; m2 /= dn; m3 /= dn; m4 /= dn
        XCTAssertEqual(m1, 0, accuracy: 5 / dn.squareRoot())
        XCTAssertEqual(m2, 1, accuracy: 5 * (2 / dn).squareRoot())
        XCTAssertEqual(m3, 0, accuracy: 5 * (6 / dn).squareRoot())
        XCTAssertEqual(m4, 3, accuracy: 5 * (96 / dn).squareRoot())
    }

    func testUniformIsInOpenUnitInterval() {
        var r = RandomStream(seed: 0)
        var lo = 1.0, hi = 0.0, sum = 0.0
        for _ in 0..<100_000 { let u = r.uniform(); lo = min(lo, u); hi = max(hi, u); sum += u }
        XCTAssertGreaterThan(lo, 0); XCTAssertLessThan(hi, 1)
        XCTAssertEqual(sum / 100_000, 0.5, accuracy: 5 * (1.0 / 12 / 100_000).squareRoot())
    }
}
