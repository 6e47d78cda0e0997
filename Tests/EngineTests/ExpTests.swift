import Foundation
import XCTest
@testable import DeepNetEngine

/// The vector exponential of softmax and the label-smoothed loss (`expV`, `expShiftSum`) against libm's `expf`.
final class ExpTests: XCTestCase {
    func testVectorExpMatchesExpfOverTheRange() {
        var worst = 0.0
        var x: Float = -87.3
        while x < 88 {
            let v = expV(SIMD8<Float>((0..<8).map { x + Float($0) * 1e-3 }))
            for l in 0..<8 {
                let want = Double(expf(x + Float(l) * 1e-3))
                worst = max(worst, abs(Double(v[l]) - want) / want)
            }
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7, "relative error of expV")
    }

    func testSpecialValues() {
        let v = expV(SIMD8<Float>(-.infinity, -100, -87.4, 0, 88.5, 89, .infinity, .nan))
        XCTAssertEqual(v[0], 0); XCTAssertEqual(v[1], 0); XCTAssertEqual(v[2], 0)
        XCTAssertEqual(v[3], 1)
        XCTAssertEqual(v[4], expf(88.5))          // beyond the polynomial's range: libm's value
        XCTAssertEqual(v[5], .infinity); XCTAssertEqual(v[6], .infinity)
        XCTAssertTrue(v[7].isNaN)
    }

    /// Sums and writes agree whether or not the values are stored, for every tail length.
    func testShiftSumTailsAndStorage() {
        var rng = SplitMix64(seed: 5)
        for n in 1...41 {
            let z = (0..<n).map { _ in Float(rng.nextNormal()) * 3 }
            var zz = z, out = [Float](repeating: -1, count: n)
            let shift = z.max()!
            let s1 = zz.withUnsafeMutableBufferPointer { zp in out.withUnsafeMutableBufferPointer { op in
                expShiftSum(op.baseAddress!, zp.baseAddress!, n, shift: shift) } }
            let s2 = zz.withUnsafeMutableBufferPointer { zp in expShiftSum(nil, zp.baseAddress!, n, shift: shift) }
            XCTAssertEqual(s1.bitPattern, s2.bitPattern)
            var ref = 0.0
            for j in 0..<n {
                let want = expf(z[j] - shift)
                XCTAssertEqual(out[j], want, accuracy: 3e-7 * want, "n=\(n) j=\(j)")
                ref += Double(want)
            }
            XCTAssertEqual(Double(s1), ref, accuracy: 1e-6 * ref)
        }
    }
}
