// Tests of the HDF5Store wrapper (public API only; runs in release).
import Foundation
import HDF5Store
import XCTest

final class CheckpointHDF5StoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func expectError(_ kind: HDF5Error.Kind, _ contains: [String] = [], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected HDF5Error.\(kind), nothing thrown", file: file, line: line)
        } catch let e as HDF5Error {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            for s in contains { XCTAssertTrue(e.description.contains(s), "'\(e)' should contain '\(s)'", file: file, line: line) }
        } catch {
            XCTFail("expected HDF5Error, got \(error)", file: file, line: line)
        }
    }

    func testNumericRoundTripAllTypesAndShapes() throws {
        let url = dir.appendingPathComponent("types.h5")
        let f = try HDF5File.create(url)
        let floats: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        try f.write(floats, shape: [2, 3, 4], at: "f32")
        try f.write((0..<6).map { Double($0) / 7 }, shape: [6], at: "f64")
        try f.write([Int32.min, -1, 0, 1, Int32.max, 7], shape: [3, 2], at: "i32")
        try f.write([Int64.min, 0, Int64.max], shape: [3], at: "i64")
        try f.write([1, 2, 3, 4] as [Int], shape: [2, 2], at: "int")
        try f.write(scalar: Float(3.25), at: "scalar")
        try f.write([Float](), shape: [0, 5], at: "empty")
        try f.write([Float](repeating: 1, count: 1), shape: [1, 1, 1, 1, 1], at: "rank5")
        f.close()

        let g = try HDF5File.open(url, mode: .readOnly)
        defer { g.close() }
        let (v, s) = try g.readFloats(at: "f32")
        XCTAssertEqual(v, floats); XCTAssertEqual(s, [2, 3, 4])
        XCTAssertEqual(try g.readDoubles(at: "f64").values, (0..<6).map { Double($0) / 7 })
        let i32 = try g.readInt32s(at: "i32")
        XCTAssertEqual(i32.values, [Int32.min, -1, 0, 1, Int32.max, 7]); XCTAssertEqual(i32.shape, [3, 2])
        XCTAssertEqual(try g.readInt64s(at: "i64").values, [Int64.min, 0, Int64.max])
        XCTAssertEqual(try g.read(Int.self, at: "int").values, [1, 2, 3, 4])
        XCTAssertEqual(try g.readInt32s(at: "int").values, [1, 2, 3, 4])   // int64 storage read as int32
        let sc = try g.readFloats(at: "scalar")
        XCTAssertEqual(sc.values, [3.25]); XCTAssertEqual(sc.shape, [])
        let e = try g.readFloats(at: "empty")
        XCTAssertEqual(e.values, []); XCTAssertEqual(e.shape, [0, 5])
        XCTAssertEqual(try g.shape(of: "rank5"), [1, 1, 1, 1, 1])
        XCTAssertEqual(try g.dataType(of: "f32"), "float32")
        XCTAssertEqual(try g.dataType(of: "i64"), "int64")
        // float32 storage can be read as Double and vice versa (HDF5 converts).
        XCTAssertEqual(try g.readDoubles(at: "f32").values, floats.map(Double.init))
        XCTAssertEqual(try g.read(Float.self, at: "f32", expectingShape: [2, 3, 4]), floats)
        // Int32 reads of values that do not fit fail rather than clamp.
        expectError(.typeMismatch, ["'i64'", "int32"]) { _ = try g.readInt32s(at: "i64") }
    }

    func testGroupsChildrenExistsAndOverwrite() throws {
        let url = dir.appendingPathComponent("groups.h5")
        let f = try HDF5File.create(url)
        try f.write([Float(1), 2], shape: [2], at: "curves/train_loss")
        try f.write([Float(3)], shape: [1], at: "/curves/valid_loss")
        try f.write([Float(4)], shape: [1], at: "a/b/c/d")
        try f.write([Float(5)], shape: [1], at: "encoder.layers.0.fc1.weight")   // '.' inside a name
        try f.createGroup("empty/group")
        try f.createGroup("empty/group")   // idempotent
        XCTAssertEqual(try f.children(), ["a", "curves", "empty", "encoder.layers.0.fc1.weight"])
        XCTAssertEqual(try f.children(of: "curves"), ["train_loss", "valid_loss"])
        XCTAssertEqual(try f.children(of: "empty/group"), [])
        XCTAssertTrue(f.exists("a/b/c/d")); XCTAssertTrue(f.exists("/")); XCTAssertTrue(f.exists("curves"))
        XCTAssertFalse(f.exists("a/x/c")); XCTAssertFalse(f.exists("nope"))
        XCTAssertEqual(f.kind(of: "a/b"), .group)
        XCTAssertEqual(f.kind(of: "curves/train_loss"), .dataset)
        XCTAssertNil(f.kind(of: "missing/path"))
        // Overwrite with a different shape and type.
        try f.write([Double(9), 8, 7], shape: [3], at: "curves/train_loss")
        XCTAssertEqual(try f.readDoubles(at: "curves/train_loss").values, [9, 8, 7])
        expectError(.typeMismatch, ["'a/b'", "group"]) { try f.write([Float(1)], shape: [1], at: "a/b") }
        expectError(.invalidArgument, ["shape [2, 2]", "got 3"]) { try f.write([Float(1), 2, 3], shape: [2, 2], at: "bad") }
        expectError(.notFound, ["group 'zzz' not found"]) { _ = try f.children(of: "zzz") }
        f.close()
        expectError(.closed) { _ = try f.children() }
        let g = try HDF5File.open(url)
        XCTAssertEqual(try g.readFloats(at: "encoder.layers.0.fc1.weight").values, [5])
        g.close()
    }

    func testHardLinks() throws {
        let url = dir.appendingPathComponent("links.h5")
        let f = try HDF5File.create(url)
        try f.write([Float(1), 2], shape: [2], at: "encoder.embed_tokens.weight")
        try f.createHardLink(at: "decoder.output_projection.weight", to: "encoder.embed_tokens.weight")
        try f.createHardLink(at: "g/alias", to: "encoder.embed_tokens.weight")
        expectError(.notFound) { try f.createHardLink(at: "x", to: "missing") }
        expectError(.invalidArgument) { try f.createHardLink(at: "g/alias", to: "encoder.embed_tokens.weight") }
        f.close()
        let g = try HDF5File.open(url)
        defer { g.close() }
        XCTAssertEqual(try g.readFloats(at: "decoder.output_projection.weight").values, [1, 2])
        XCTAssertEqual(try g.readFloats(at: "g/alias").values, [1, 2])
    }

    func testStrings() throws {
        let url = dir.appendingPathComponent("strings.h5")
        let f = try HDF5File.create(url)
        try f.writeString("héllo, wörld ✓", at: "meta/greeting")
        try f.writeStrings(["a", "", "encoder.layers.0.fc1.weight"], at: "names")
        try f.writeStrings([], at: "none")
        f.close()
        let g = try HDF5File.open(url)
        defer { g.close() }
        XCTAssertEqual(try g.readString(at: "meta/greeting"), "héllo, wörld ✓")
        let (names, shape) = try g.readStrings(at: "names")
        XCTAssertEqual(names, ["a", "", "encoder.layers.0.fc1.weight"]); XCTAssertEqual(shape, [3])
        XCTAssertEqual(try g.readStrings(at: "none").values, [])
        XCTAssertEqual(try g.dataType(of: "names"), "string")
        expectError(.typeMismatch, ["'meta/greeting'", "string", "expected a floating-point"]) { _ = try g.readFloats(at: "meta/greeting") }
        expectError(.shapeMismatch, ["expected a single string"]) { _ = try g.readString(at: "names") }
    }

    func testAttributesOnFileGroupAndDataset() throws {
        let url = dir.appendingPathComponent("attrs.h5")
        let f = try HDF5File.create(url)
        try f.write([Float(1)], shape: [1], at: "g/encoder.embed_tokens.weight")
        try f.setAttribute("title", "DeepNet ✓")
        try f.setAttribute("layers", 18)
        try f.setAttribute("alpha", 1.4179)
        try f.setAttribute("flag", true)
        try f.setAttribute("dims", [4, 8, 16])
        try f.setAttribute("lrs", [1e-3, 5e-4])
        try f.setAttribute("names", ["x", "y"])
        try f.setAttribute("kind", "group", on: "g")
        try f.setAttribute("units", "nats", on: "g/encoder.embed_tokens.weight")
        try f.setAttribute("layers", 36)   // replace
        f.close()

        let g = try HDF5File.open(url)
        defer { g.close() }
        XCTAssertEqual(try g.stringAttribute("title"), "DeepNet ✓")
        XCTAssertEqual(try g.intAttribute("layers"), 36)
        XCTAssertEqual(try g.doubleAttribute("alpha"), 1.4179)
        XCTAssertEqual(try g.doubleAttribute("layers"), 36)
        XCTAssertEqual(try g.boolAttribute("flag"), true)
        XCTAssertEqual(try g.intsAttribute("dims"), [4, 8, 16])
        XCTAssertEqual(try g.doublesAttribute("lrs"), [1e-3, 5e-4])
        XCTAssertEqual(try g.attribute("names"), .strings(["x", "y"]))
        XCTAssertEqual(try g.attribute("dims"), .ints([4, 8, 16]))
        XCTAssertEqual(try g.stringAttribute("kind", on: "g"), "group")
        XCTAssertEqual(try g.stringAttribute("units", on: "g/encoder.embed_tokens.weight"), "nats")
        XCTAssertNil(try g.stringAttribute("absent"))
        XCTAssertFalse(g.hasAttribute("absent")); XCTAssertTrue(g.hasAttribute("title"))
        XCTAssertEqual(try g.attributeNames(), ["alpha", "dims", "flag", "layers", "lrs", "names", "title"])
        XCTAssertEqual(try g.attributeNames(on: "g/encoder.embed_tokens.weight"), ["units"])
        expectError(.typeMismatch, ["attribute 'title'", "expected an integer"]) { _ = try g.intAttribute("title") }
        expectError(.notFound, ["'nowhere'"]) { _ = try g.attribute("x", on: "nowhere") }
        expectError(.readOnly, ["read-only"]) { try g.setAttribute("x", 1) }
        expectError(.readOnly, ["read-only"]) { try g.write([Float(1)], shape: [1], at: "w") }
    }

    func testReadWriteModeAppends() throws {
        let url = dir.appendingPathComponent("rw.h5")
        let f = try HDF5File.create(url)
        try f.write([Int32(1)], shape: [1], at: "x")
        f.close()
        let g = try HDF5File.open(url, mode: .readWrite)
        try g.write([Int32(2)], shape: [1], at: "y")
        g.close()
        let h = try HDF5File.open(url)
        XCTAssertEqual(try h.children(), ["x", "y"])
        h.close()
    }

    func testErrorPaths() throws {
        // Missing file.
        let missing = dir.appendingPathComponent("missing.h5")
        expectError(.fileNotFound, ["missing.h5", "no such file"]) { _ = try HDF5File.open(missing) }
        // Foreign file.
        let foreign = dir.appendingPathComponent("foreign.h5")
        try Data("this is not hdf5\n".utf8).write(to: foreign)
        expectError(.notHDF5, ["foreign.h5", "not an HDF5 file"]) { _ = try HDF5File.open(foreign) }
        let empty = dir.appendingPathComponent("empty.h5")
        try Data().write(to: empty)
        expectError(.notHDF5, ["empty.h5"]) { _ = try HDF5File.open(empty) }
        expectError(.notHDF5, ["directory"]) { _ = try HDF5File.open(dir) }
        expectError(.fileNotFound, ["does not exist"]) { _ = try HDF5File.create(dir.appendingPathComponent("no/such/dir.h5")) }

        // Missing dataset / wrong type / wrong shape.
        let url = dir.appendingPathComponent("checkpoint.h5")
        let f = try HDF5File.create(url)
        try f.write([Float](repeating: 0, count: 64 * 32), shape: [64, 32], at: "encoder.layers.0.fc1.weight")
        try f.write([Int64(1), 2], shape: [2], at: "tokens")
        f.close()
        let g = try HDF5File.open(url)
        expectError(.notFound, ["checkpoint.h5", "dataset 'decoder.x' not found"]) { _ = try g.readFloats(at: "decoder.x") }
        expectError(.typeMismatch, ["'tokens'", "int64", "floating-point"]) { _ = try g.readFloats(at: "tokens") }
        expectError(.typeMismatch, ["float32", "integer"]) { _ = try g.readInt64s(at: "encoder.layers.0.fc1.weight") }
        expectError(.typeMismatch, ["is not a group"]) { _ = try g.children(of: "tokens") }
        do {
            _ = try g.read(Float.self, at: "encoder.layers.0.fc1.weight", expectingShape: [128, 64])
            XCTFail("expected shape mismatch")
        } catch let e as HDF5Error {
            XCTAssertEqual(e.kind, .shapeMismatch)
            XCTAssertEqual(e.path, "encoder.layers.0.fc1.weight")
            XCTAssertTrue(e.description.hasSuffix("checkpoint.h5: dataset 'encoder.layers.0.fc1.weight' has shape [64, 32], expected [128, 64]"), e.description)
        }
        g.close()

        // Truncated file: opening or reading must throw, never trap.
        let data = try Data(contentsOf: url)
        for keep in [8, 100, 600, data.count / 2, data.count - 100] {
            let cut = dir.appendingPathComponent("cut\(keep).h5")
            try data.prefix(keep).write(to: cut)
            do {
                let h = try HDF5File.open(cut)
                defer { h.close() }
                _ = try h.readFloats(at: "encoder.layers.0.fc1.weight")
                _ = try h.readInt64s(at: "tokens")
                XCTFail("truncated file (\(keep) of \(data.count) bytes) read without error")
            } catch let e as HDF5Error {
                XCTAssertTrue(e.description.contains("cut\(keep).h5"), "\(e)")
            }
        }
    }

    func testAtomicWriteKeepsOldFileOnError() throws {
        struct Boom: Error {}
        let url = dir.appendingPathComponent("state.h5")
        try HDF5File.writeAtomically(to: url) { f in
            try f.write([Float(1), 2, 3], shape: [3], at: "v")
            try f.setAttribute("version", 1)
        }
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { f in
            try f.write([Float(9)], shape: [1], at: "v")
            try f.setAttribute("version", 2)
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        // An HDF5 error inside the body also leaves the old file.
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { f in
            try f.write([Float(9)], shape: [2], at: "v")
        })
        let f = try HDF5File.open(url)
        XCTAssertEqual(try f.readFloats(at: "v").values, [1, 2, 3])
        XCTAssertEqual(try f.intAttribute("version"), 1)
        f.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["state.h5"], "temp files left behind")
        // A successful atomic write replaces the file.
        try HDF5File.writeAtomically(to: url) { f in try f.write([Float(4)], shape: [1], at: "v") }
        let g = try HDF5File.open(url)
        XCTAssertEqual(try g.readFloats(at: "v").values, [4])
        XCTAssertNil(try g.intAttribute("version"))
        g.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["state.h5"])
    }

    func testConcurrentAccessIsSerialized() throws {
        let url = dir.appendingPathComponent("conc.h5")
        try HDF5File.writeAtomically(to: url) { f in
            for i in 0..<8 { try f.write([Float](repeating: Float(i), count: 100), shape: [10, 10], at: "d\(i)") }
        }
        let f = try HDF5File.open(url)
        defer { f.close() }
        let ok = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 64)
        defer { ok.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let v = try? f.readFloats(at: "d\(i % 8)").values
            ok[i] = v == [Float](repeating: Float(i % 8), count: 100)
        }
        XCTAssertTrue(ok.allSatisfy { $0 })
    }

    func testH5DumpReadsWrittenFile() throws {
        let h5dump = ["/usr/bin/h5dump", "/usr/local/bin/h5dump"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool = h5dump else { throw XCTSkip("h5dump not installed") }
        let url = dir.appendingPathComponent("dump.h5")
        try HDF5File.writeAtomically(to: url) { f in
            try f.write([Float](repeating: 0.5, count: 6), shape: [2, 3], at: "encoder.layers.0.fc1.weight")
            try f.write([Int64(1), 2], shape: [2], at: "batch/src_tokens")
            try f.writeString("hello", at: "note")
            try f.setAttribute("arch", "deepnet")
            try f.setAttribute("encoder_layers", 6)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["-H", url.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, out)
        XCTAssertTrue(out.contains("DATASET \"encoder.layers.0.fc1.weight\""), out)
        XCTAssertTrue(out.contains("H5T_IEEE_F32LE"), out)
        XCTAssertTrue(out.contains("DATASPACE  SIMPLE { ( 2, 3 ) / ( 2, 3 ) }"), out)
        XCTAssertTrue(out.contains("GROUP \"batch\""), out)
        XCTAssertTrue(out.contains("ATTRIBUTE \"arch\""), out)
    }
}
