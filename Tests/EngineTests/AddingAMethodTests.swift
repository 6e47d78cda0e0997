// The README's "Adding a method" recipe: the example method compiles here exactly as printed there (the test
// compares the two texts), and the registration step holds for every method file in Sources/.
import DeepNetEngine
import Foundation
import XCTest

// README-EXAMPLE-BEGIN
public final class ScaledPostLN: ResidualMethod {
    public static let name = "scaled-post-ln"
    public static let summary = "LN(2x + f(x))"
    public init(_ c: MethodContext) throws { try c.checkOptions(allowed: [], method: Self.name) }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []   // Post-LN position
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 2) } // LN(2x+f) = LN(x+f/2)
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>,
                                 bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.pytorchDefault(l, weight, bias, &rng)
    }
}
// README-EXAMPLE-END

final class AddingAMethodTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The README prints the code above, character for character.
    func testReadmeExampleIsTheCompiledOne() throws {
        let me = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let example = me.components(separatedBy: "// README-EXAMPLE-BEGIN\n")[1].components(separatedBy: "// README-EXAMPLE-END")[0]
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "### Adding a method").dropFirst().first)
        let block = try XCTUnwrap(section.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        XCTAssertEqual(block, example)
    }

    /// The example method is a working `ResidualMethod`: it constructs from a model's context and rejects
    /// options it does not know, as the recipe requires.
    func testExampleMethodConstructsAndChecksItsOptions() throws {
        let c = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 8, ffnDim: 16, heads: 2, vocabSize: 12, method: "post-ln")
        let m: ResidualMethod = try ScaledPostLN(MethodContext(config: c))
        XCTAssertEqual(type(of: m).name, "scaled-post-ln")
        var bad = c
        bad.methodOptions = ["k": 1]
        XCTAssertThrowsError(try ScaledPostLN(MethodContext(config: bad)))
    }

    /// Step two of the recipe ("list it in Methods/MethodList.swift"): every method declared in a file under
    /// Sources/DeepNetEngine/Methods/ is in the registry, so every command and the gradient checks see it.
    func testEveryMethodFileIsListed() throws {
        let dir = Self.root.appendingPathComponent("Sources/DeepNetEngine/Methods")
        var declared: [String] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("public static let name = \"") {
                declared.append(String(line.split(separator: "\"")[1]))
            }
        }
        XCTAssertGreaterThanOrEqual(declared.count, 16)
        XCTAssertEqual(Set(declared), Set(MethodRegistry.names))
        XCTAssertEqual(MethodRegistry.names.count, Set(MethodRegistry.names).count, "duplicate method names")
        XCTAssertTrue(MethodRegistry.names.contains("deepnorm-no-alpha") && MethodRegistry.names.contains("deepnorm-no-init"))
    }
}
