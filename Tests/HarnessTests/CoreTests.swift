import DeepNetEngine
import DeepNetHarness
import Experiments
import XCTest

final class CoreTests: XCTestCase {
    /// FIPS 180-4 / NIST CAVP test vectors.
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hash("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Incremental updates at odd boundaries give the same digest.
        var h = SHA256()
        let msg = Array("The quick brown fox jumps over the lazy dog".utf8)
        h.update(Array(msg[0..<7])); h.update(Array(msg[7..<40])); h.update(Array(msg[40...]))
        XCTAssertEqual(h.hexDigest(), "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    func testCanonicalJSONIsSortedAndStable() throws {
        let v = try JSONValue.parse(#"{"b": [1, 2.5, "x"], "a": {"z": true, "y": null}, "c": 0.0005}"#)
        XCTAssertEqual(v.canonical, #"{"a":{"y":null,"z":true},"b":[1,2.5,"x"],"c":0.0005}"#)
        XCTAssertEqual(try JSONValue.parse(v.canonical), v)
        XCTAssertEqual(try JSONValue.parse(v.pretty), v)
        XCTAssertEqual(JSONValue.format(1e-7), "1e-07")
        XCTAssertEqual(JSONValue.format(4096), "4096")
    }

    func testRunIdentityStableAndSensitive() throws {
        let c = RunConfig()
        let id = RunIdentity.compute(config: c, dataFingerprint: "fp", engineVersion: "e1")
        XCTAssertEqual(id.count, 64)
        // changing nothing keeps it (a fresh value, a JSON round trip)
        XCTAssertEqual(RunIdentity.compute(config: RunConfig(), dataFingerprint: "fp", engineVersion: "e1"), id)
        let roundTrip = try JSONValue.parse(c.canonicalJSON().canonical).decode(RunConfig.self)
        XCTAssertEqual(RunIdentity.compute(config: roundTrip, dataFingerprint: "fp", engineVersion: "e1"), id)
        // measurement order does not matter
        var m = c; m.measurements = c.measurements.reversed()
        XCTAssertEqual(RunIdentity.compute(config: m, dataFingerprint: "fp", engineVersion: "e1"), id)
        // changing any one field changes it
        var changes: [RunConfig] = []
        var a = c; a.optimizer.lr *= 2; changes.append(a)
        a = c; a.model.decoderLayers += 1; changes.append(a)
        a = c; a.model.method = "pre-ln"; changes.append(a)
        a = c; a.model.alphaMultiplier = 0.5; changes.append(a)
        a = c; a.training.seed = 2; changes.append(a)
        a = c; a.data.targetLanguage = "fr"; changes.append(a)
        a = c; a.divergence.patience += 1; changes.append(a)
        a = c; a.measurements.append(.modelUpdate); changes.append(a)
        var ids = Set([id])
        for ch in changes { XCTAssertTrue(ids.insert(RunIdentity.compute(config: ch, dataFingerprint: "fp", engineVersion: "e1")).inserted) }
        XCTAssertNotEqual(RunIdentity.compute(config: c, dataFingerprint: "fp2", engineVersion: "e1"), id)
        XCTAssertNotEqual(RunIdentity.compute(config: c, dataFingerprint: "fp", engineVersion: "e2"), id)
    }

    /// Expanding the registry twice gives the same ids; editing one level changes only that run's id.
    func testExpansionIdsStableAndLocal() throws {
        let env = HarnessEnvironment(dataRoot: nil, fingerprint: { s, _ in "t:" + s.dataset.rawValue })
        let e = try experimentRegistry().experiment("table1")
        let a = try Expansion.expand(e, profile: .reduced, environment: env)
        let b = try Expansion.expand(e, profile: .reduced, environment: env)
        XCTAssertEqual(a.map(\.runID), b.map(\.runID))
        var edited = e
        var grid = edited.profiles[.reduced]!.grid!
        XCTAssertEqual(Set(a.map(\.runID)).count, grid.axes[0].levels.count * grid.axes[1].levels.count)
        // edit the deepest depth level (its label kept, one field changed)
        let last = grid.axes[1].levels.count - 1
        let deepest = grid.axes[1].levels[last].label
        grid.axes[1].levels[last] = Level(deepest, [.set(\.model.encoderLayers, 100), .set(\.model.decoderLayers, 99)])
        edited.profiles[.reduced]!.grid = grid
        let c = try Expansion.expand(edited, profile: .reduced, environment: env)
        let changed = zip(a, c).filter { $0.0.runID != $0.1.runID }
        XCTAssertEqual(changed.count, 10)
        XCTAssertTrue(changed.allSatisfy { $0.0.coordinates["depth"] == deepest })
    }

    func testInvalidConfigNamesFieldAndRange() {
        var c = RunConfig(); c.optimizer.lr = 5
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "invalid value 5.0 for 'optimizer.lr': allowed (0, 1]") }
        c = RunConfig(); c.model.heads = 3
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("'model.heads'")) }
        c = RunConfig(); c.model.method = "nope"
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("model.method")) }
    }

    func testLogFitAndNumericLabels() {
        let fit = try! ScalingLaw.fit(depths: [12, 24, 48], values: [24.5, 26.2, 27.7], bootstrapSamples: 0)
        XCTAssertGreaterThan(fit.a, 2); XCTAssertGreaterThan(fit.rSquared, 0.99)
        XCTAssertEqual(Verdicts.numericValue("18L-18L"), 36)
        XCTAssertEqual(Verdicts.numericValue("24L"), 24)
        XCTAssertEqual(Verdicts.numericValue("1.2e-3"), 0.0012)
        XCTAssertEqual(Verdicts.numericValue("0.25×"), 0.25)
    }

    func testCostModelScales() {
        var c = RunConfig()
        c.model = CostModel.referenceConfig
        c.training.steps = 100; c.training.batchTokens = 50_000
        let cost = CostModel.estimate(c)
        // 100 steps of 50k target tokens at the predicted rate: 5M tokens / rate seconds of training.
        let rate = CostModel.targetTokensPerSecond(c.model)
        XCTAssertGreaterThan(cost.seconds, 5e6 / rate)
        XCTAssertLessThan(cost.seconds, 2.5 * 5e6 / rate)  // + validation, decoding
        var deep = c; deep.model.encoderLayers = 60; deep.model.decoderLayers = 60
        // 10× the layers: more than 8× the time beyond the fixed cost of starting a run.
        let fixed = CostModel.calibration.seconds([0, 0, 0, 0, 0], dataset: c.data.dataset.rawValue)
        XCTAssertGreaterThan(CostModel.estimate(deep).seconds - fixed, 8 * (cost.seconds - fixed))
    }
}
