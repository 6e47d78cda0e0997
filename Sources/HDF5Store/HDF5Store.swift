// HDF5Store: the one Swift wrapper over the HDF5 C library (checkpoints, batches, run results).
//
// Design rules
// * Every HDF5 call runs while holding one process-wide lock (`HDF5Lock`), as open-meteo/swift-hdf5 does;
//   the Debian build is thread-safe, but the lock also keeps our own multi-call sequences atomic.
// * HDF5's automatic error printing is switched off; every failing call becomes an `HDF5Error` that names the
//   file, the object path and what was expected/found, plus the innermost message of HDF5's error stack.
// * Nothing here traps on bad input: foreign, truncated or missing files, wrong types and wrong shapes all throw.
// * Paths are "/"-separated, relative to the root group ("curves/train_loss" == "/curves/train_loss").
//   Link names may contain "." (state_dict keys such as "encoder.layers.0.fc1.weight" are single names).
// * Array data is row-major (C order) with the shape stored as the dataspace, exactly like h5py / numpy.
import CHDF5
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Lock

/// The single lock that serializes all HDF5 calls in the process. Recursive, so that an `HDF5File` released
/// (and therefore closed by `deinit`) while the lock is held cannot deadlock.
enum HDF5Lock {
    static let lock = NSRecursiveLock()
    /// Runs once, before the first HDF5 call initialises the library: no atexit handler. When a write fails
    /// (EFBIG, ENOSPC), H5Fclose fails too and HDF5 keeps the file open with dirty metadata; its atexit handler
    /// then flushes that file again at process exit and segfaults — turning a clean, reported error into a crash.
    /// Every file we write is closed explicitly (and written atomically), so nothing is lost by skipping it.
    private static let libraryPrepared: Void = { _ = H5dont_atexit() }()
    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = libraryPrepared
        // The automatic error printer is per thread in thread-safe builds: silence it on whatever thread we are on.
        chdf5_silence_errors()
        return try body()
    }
}

/// The HDF5 library this process is linked against, e.g. "1.10.8" (for provenance records).
public var hdf5LibraryVersion: String? {
    HDF5Lock.run {
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0
        return H5get_libversion(&a, &b, &c) >= 0 ? "\(a).\(b).\(c)" : nil
    }
}

// MARK: - Errors

/// A failure of an HDF5 operation, with enough context to act on it.
///
/// `description` reads e.g.
/// `checkpoint.h5: dataset 'encoder.layers.0.fc1.weight' has shape [64, 32], expected [128, 64]`.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case fileNotFound, notHDF5, openFailed, readOnly, closed
        case notFound, typeMismatch, shapeMismatch, invalidArgument, ioFailed
    }
    public let kind: Kind
    /// The file as the caller named it (relative paths stay relative).
    public let file: String
    /// The object path inside the file, when the error concerns one.
    public let path: String?
    /// What went wrong, naming expected and found values.
    public let message: String
    /// The innermost message of HDF5's own error stack, if any.
    public let detail: String?

    public init(_ kind: Kind, file: String, path: String? = nil, message: String, detail: String? = nil) {
        self.kind = kind; self.file = file; self.path = path; self.message = message
        self.detail = (detail?.isEmpty ?? true) ? nil : detail
    }

    public var description: String {
        var s = "\(file): \(message)"
        if let d = detail { s += " (HDF5: \(d))" }
        return s
    }
}

/// Reads and clears the current HDF5 error stack. Call with the lock held.
private func takeHDF5Message() -> String {
    var buf = [CChar](repeating: 0, count: 512)
    chdf5_take_error_message(&buf, buf.count)
    return String(cString: buf)
}

// MARK: - Element types

/// The numeric element types a dataset can be written from / read into.
public enum HDF5ScalarKind: String, Sendable {
    case float32, float64, int32, int64
    var isFloat: Bool { self == .float32 || self == .float64 }
    var nativeType: hid_t {
        switch self {
        case .float32: return chdf5_native_float()
        case .float64: return chdf5_native_double()
        case .int32: return chdf5_native_int32()
        case .int64: return chdf5_native_int64()
        }
    }
}

/// Swift types usable as dataset elements: `Float`, `Double`, `Int32`, `Int64`, `Int` (stored as int64).
public protocol HDF5Scalar {
    static var hdf5Kind: HDF5ScalarKind { get }
}
extension Float: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .float32 } }
extension Double: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .float64 } }
extension Int32: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .int64 } }
extension Int: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .int64 } }  // 64-bit platforms only

/// What a path in the file refers to.
public enum HDF5ObjectKind: String, Sendable { case group, dataset, other }

/// An attribute value. Scalars and 1-D arrays; integers are stored as int64, reals as float64,
/// strings as variable-length UTF-8 (what h5py writes for Python `int`, `float`, `str`).
public enum HDF5AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case double(Double)
    case strings([String])
    case ints([Int])
    case doubles([Double])

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .int(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .strings(let v): return "\(v)"
        case .ints(let v): return "\(v)"
        case .doubles(let v): return "\(v)"
        }
    }
}

// MARK: - File

/// An open HDF5 file. All methods are safe to call from any thread (one global lock).
/// Close explicitly with `close()`; `deinit` closes too.
public final class HDF5File: @unchecked Sendable {
    public enum Mode: Sendable { case readOnly, readWrite }

    public let url: URL
    public let mode: Mode
    private var fid: hid_t

    /// The file name used in error messages (the path as given by the caller).
    public var displayName: String { url.relativePath }

    private init(url: URL, mode: Mode, fid: hid_t) {
        self.url = url; self.mode = mode; self.fid = fid
    }

    deinit { close() }

    // MARK: Opening, creating, closing

    /// Opens an existing file. Throws `.fileNotFound`, `.notHDF5` (foreign file) or `.openFailed` (e.g. truncated).
    public static func open(_ url: URL, mode: Mode = .readOnly) throws -> HDF5File {
        let name = url.relativePath
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw HDF5Error(.fileNotFound, file: name, message: "no such file")
        }
        if isDir.boolValue { throw HDF5Error(.notHDF5, file: name, message: "is a directory, not an HDF5 file") }
        return try HDF5Lock.run {
            let isH5 = H5Fis_hdf5(url.path)
            if isH5 == 0 {
                _ = takeHDF5Message()
                throw HDF5Error(.notHDF5, file: name, message: "not an HDF5 file (no HDF5 signature found)")
            }
            if isH5 < 0 {
                throw HDF5Error(.openFailed, file: name, message: "cannot be read as HDF5", detail: takeHDF5Message())
            }
            let flags = mode == .readOnly ? chdf5_f_acc_rdonly() : chdf5_f_acc_rdwr()
            let id = H5Fopen(url.path, flags, chdf5_p_default())
            if id < 0 {
                throw HDF5Error(.openFailed, file: name,
                                message: "cannot open HDF5 file \(mode == .readOnly ? "read-only" : "read-write") (truncated, corrupt or locked?)",
                                detail: takeHDF5Message())
            }
            return HDF5File(url: url, mode: mode, fid: id)
        }
    }

    /// Creates a new file, truncating any existing file at `url`. Opened read-write.
    public static func create(_ url: URL) throws -> HDF5File {
        let name = url.relativePath
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw HDF5Error(.fileNotFound, file: name, message: "cannot create file: directory '\(dir.relativePath)' does not exist")
        }
        return try HDF5Lock.run {
            let id = H5Fcreate(url.path, chdf5_f_acc_trunc(), chdf5_p_default(), chdf5_p_default())
            if id < 0 {
                throw HDF5Error(.openFailed, file: name, message: "cannot create HDF5 file", detail: takeHDF5Message())
            }
            return HDF5File(url: url, mode: .readWrite, fid: id)
        }
    }

    /// Writes a file atomically: `body` fills a temporary file in the same directory, which is then flushed,
    /// fsync'ed and renamed over `url`. If `body` (or anything else) throws, the temporary file is removed and
    /// any previous file at `url` is left untouched.
    public static func writeAtomically(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        let token = UUID().uuidString.prefix(8)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(token)")
        var file: HDF5File? = nil
        do {
            file = try HDF5File.create(tmp)
            try body(file!)
            try file!.closeChecked()
            file = nil
            // Make the bytes durable before the rename makes them visible.
            let fd = Glibc.open(tmp.path, O_RDONLY)
            if fd >= 0 { _ = fsync(fd); _ = Glibc.close(fd) }
            if Glibc.rename(tmp.path, url.path) != 0 {
                let err = String(cString: strerror(errno))
                throw HDF5Error(.ioFailed, file: url.relativePath, message: "cannot rename temporary file into place: \(err)")
            }
            let dfd = Glibc.open(dir.path, O_RDONLY)
            if dfd >= 0 { _ = fsync(dfd); _ = Glibc.close(dfd) }
        } catch let e as HDF5Error {
            file?.close()
            try? FileManager.default.removeItem(at: tmp)
            // The temporary file is an implementation detail that no longer exists: the error names the target
            // (e.g. "out.h5: error while closing" under a full disk, not ".out.h5.tmp-123-ab: …").
            throw HDF5Error(e.kind, file: e.file.hasSuffix(tmp.lastPathComponent) ? url.relativePath : e.file, path: e.path, message: e.message,
                            detail: e.detail?.replacingOccurrences(of: tmp.lastPathComponent, with: url.lastPathComponent))
        } catch {
            file?.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// Closes the file (idempotent). Later calls on this object throw `.closed`.
    public func close() {
        HDF5Lock.run {
            if fid >= 0 { _ = H5Fclose(fid); _ = takeHDF5Message(); fid = -1 }
        }
    }

    /// Flushes buffered data to disk.
    public func flush() throws {
        try locked { fid in
            if H5Fflush(fid, H5F_SCOPE_GLOBAL) < 0 {
                throw err(.ioFailed, nil, "cannot flush file")
            }
        }
    }

    func closeChecked() throws {
        try HDF5Lock.run {
            guard fid >= 0 else { return }
            let rc = H5Fclose(fid)
            fid = -1
            if rc < 0 { throw err(.ioFailed, nil, "error while closing (data may not have been written)") }
        }
    }

    // MARK: Internals

    private func err(_ kind: HDF5Error.Kind, _ path: String?, _ message: String) -> HDF5Error {
        HDF5Error(kind, file: displayName, path: path, message: message, detail: takeHDF5Message())
    }

    private func locked<T>(_ body: (hid_t) throws -> T) throws -> T {
        try HDF5Lock.run {
            guard fid >= 0 else { throw HDF5Error(.closed, file: displayName, message: "file is closed") }
            return try body(fid)
        }
    }

    private func requireWritable(_ path: String) throws {
        if mode == .readOnly {
            throw HDF5Error(.readOnly, file: displayName, path: path, message: "cannot write '\(path)': file is opened read-only")
        }
    }

    private static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return parts.isEmpty ? "/" : parts.joined(separator: "/")
    }

    /// Whether every link along `path` exists (lock held).
    private func linkExists(_ fid: hid_t, _ path: String) -> Bool {
        let p = HDF5File.normalize(path)
        if p == "/" { return true }
        var prefix = ""
        for comp in p.split(separator: "/") {
            prefix = prefix.isEmpty ? String(comp) : prefix + "/" + comp
            let r = H5Lexists(fid, prefix, chdf5_p_default())
            if r <= 0 { _ = takeHDF5Message(); return false }
        }
        return true
    }

    private func objectKind(_ fid: hid_t, _ path: String) -> HDF5ObjectKind? {
        guard linkExists(fid, path) else { return nil }
        let oid = H5Oopen(fid, HDF5File.normalize(path), chdf5_p_default())
        if oid < 0 { _ = takeHDF5Message(); return nil }
        defer { H5Oclose(oid) }
        switch H5Iget_type(oid) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    private func openDataset(_ fid: hid_t, _ path: String) throws -> hid_t {
        switch objectKind(fid, path) {
        case nil: throw err(.notFound, path, "dataset '\(path)' not found")
        case .group?: throw err(.typeMismatch, path, "'\(path)' is a group, expected a dataset")
        case .other?: throw err(.typeMismatch, path, "'\(path)' is not a dataset")
        case .dataset?: break
        }
        let did = H5Dopen2(fid, HDF5File.normalize(path), chdf5_p_default())
        if did < 0 { throw err(.ioFailed, path, "cannot open dataset '\(path)'") }
        return did
    }

    private static func dims(ofSpace sid: hid_t) -> [Int]? {
        let rank = H5Sget_simple_extent_ndims(sid)
        if rank < 0 { return nil }
        if rank == 0 { return [] }
        var d = [hsize_t](repeating: 0, count: Int(rank))
        if H5Sget_simple_extent_dims(sid, &d, nil) < 0 { return nil }
        return d.map { Int($0) }
    }

    private static func makeSpace(_ shape: [Int]) -> hid_t {
        if shape.isEmpty { return H5Screate(H5S_SCALAR) }
        let d = shape.map { hsize_t($0) }
        return H5Screate_simple(Int32(d.count), d, nil)
    }

    /// Human-readable name of a file datatype, e.g. "float32", "int64", "string", "enum".
    static func describeType(_ tid: hid_t) -> String {
        let size = H5Tget_size(tid)
        switch H5Tget_class(tid) {
        case H5T_FLOAT: return "float\(size * 8)"
        case H5T_INTEGER: return (H5Tget_sign(tid) == H5T_SGN_NONE ? "uint" : "int") + "\(size * 8)"
        case H5T_STRING: return "string"
        case H5T_ENUM: return "enum"
        case H5T_COMPOUND: return "compound"
        case H5T_ARRAY: return "array"
        case H5T_OPAQUE: return "opaque"
        case H5T_REFERENCE: return "reference"
        case H5T_VLEN: return "vlen"
        case H5T_BITFIELD: return "bitfield"
        default: return "unknown type"
        }
    }

    /// Creates the link-creation property list that makes missing intermediate groups.
    private static func intermediateLCPL() -> hid_t {
        let lcpl = H5Pcreate(chdf5_p_link_create())
        H5Pset_create_intermediate_group(lcpl, 1)
        return lcpl
    }

    /// Removes an existing dataset at `path` so it can be rewritten; refuses to replace a group.
    private func prepareDatasetPath(_ fid: hid_t, _ path: String) throws {
        switch objectKind(fid, path) {
        case nil: return
        case .group?: throw err(.typeMismatch, path, "cannot write dataset '\(path)': a group exists at that path")
        default:
            if H5Ldelete(fid, HDF5File.normalize(path), chdf5_p_default()) < 0 {
                throw err(.ioFailed, path, "cannot replace existing dataset '\(path)'")
            }
        }
    }

    // MARK: Groups and introspection

    /// Creates a group (and any missing parents). No-op if it already exists.
    public func createGroup(_ path: String) throws {
        try requireWritable(path)
        try locked { fid in
            switch objectKind(fid, path) {
            case .group?: return
            case nil: break
            default: throw err(.typeMismatch, path, "cannot create group '\(path)': a dataset exists at that path")
            }
            let lcpl = HDF5File.intermediateLCPL()
            defer { H5Pclose(lcpl) }
            let gid = H5Gcreate2(fid, HDF5File.normalize(path), lcpl, chdf5_p_default(), chdf5_p_default())
            if gid < 0 { throw err(.ioFailed, path, "cannot create group '\(path)'") }
            H5Gclose(gid)
        }
    }

    /// Makes `path` a second name (HDF5 hard link) for the existing object at `target`: no data is copied and
    /// readers such as h5py see an ordinary dataset. Used for tied tensors. Parents of `path` are created.
    public func createHardLink(at path: String, to target: String) throws {
        try requireWritable(path)
        try locked { fid in
            guard objectKind(fid, target) != nil else { throw err(.notFound, target, "cannot link '\(path)': target '\(target)' not found") }
            if linkExists(fid, path) { throw err(.invalidArgument, path, "cannot link '\(path)': an object already exists there") }
            let lcpl = HDF5File.intermediateLCPL()
            defer { H5Pclose(lcpl) }
            if H5Lcreate_hard(fid, HDF5File.normalize(target), fid, HDF5File.normalize(path), lcpl, chdf5_p_default()) < 0 {
                throw err(.ioFailed, path, "cannot create link '\(path)' -> '\(target)'")
            }
        }
    }

    /// Whether an object exists at `path` ("/" always exists).
    public func exists(_ path: String) -> Bool {
        (try? locked { fid in linkExists(fid, path) }) ?? false
    }

    /// Whether `path` is a group, a dataset, something else, or absent (nil).
    public func kind(of path: String) -> HDF5ObjectKind? {
        (try? locked { fid in objectKind(fid, path) }) ?? nil
    }

    /// Names of the direct children of a group, in name order.
    public func children(of path: String = "/") throws -> [String] {
        try locked { fid in
            switch objectKind(fid, path) {
            case nil: throw err(.notFound, path, "group '\(path)' not found")
            case .group?: break
            default: throw err(.typeMismatch, path, "'\(path)' is not a group")
            }
            let p = HDF5File.normalize(path)
            var info = H5G_info_t()
            if H5Gget_info_by_name(fid, p, &info, chdf5_p_default()) < 0 {
                throw err(.ioFailed, path, "cannot list group '\(path)'")
            }
            var names: [String] = []
            names.reserveCapacity(Int(info.nlinks))
            for i in 0..<info.nlinks {
                let len = H5Lget_name_by_idx(fid, p, H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
                if len < 0 { throw err(.ioFailed, path, "cannot read child \(i) of group '\(path)'") }
                var buf = [CChar](repeating: 0, count: Int(len) + 1)
                _ = H5Lget_name_by_idx(fid, p, H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, chdf5_p_default())
                names.append(String(cString: buf))
            }
            return names
        }
    }

    /// The shape of a dataset (`[]` for a scalar dataset).
    public func shape(of path: String) throws -> [Int] {
        try locked { fid in
            let did = try openDataset(fid, path)
            defer { H5Dclose(did) }
            let sid = H5Dget_space(did)
            defer { H5Sclose(sid) }
            guard let d = HDF5File.dims(ofSpace: sid) else { throw err(.ioFailed, path, "cannot read shape of '\(path)'") }
            return d
        }
    }

    /// The stored element type of a dataset, e.g. "float32", "int64", "string".
    public func dataType(of path: String) throws -> String {
        try locked { fid in
            let did = try openDataset(fid, path)
            defer { H5Dclose(did) }
            let tid = H5Dget_type(did)
            defer { H5Tclose(tid) }
            return HDF5File.describeType(tid)
        }
    }

    // MARK: Numeric datasets

    /// Writes a whole array as a dataset at `path` (parents created; an existing dataset is replaced).
    /// `shape` is row-major; its product must equal `values.count` (`[]` = scalar, one value).
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int], at path: String) throws {
        try requireWritable(path)
        let count = shape.reduce(1, { $0 * $1 })
        guard shape.allSatisfy({ $0 >= 0 }), count == values.count else {
            throw HDF5Error(.invalidArgument, file: displayName, path: path,
                            message: "cannot write dataset '\(path)': shape \(shape) holds \(count) values, got \(values.count)")
        }
        try locked { fid in
            try prepareDatasetPath(fid, path)
            let sid = HDF5File.makeSpace(shape)
            defer { H5Sclose(sid) }
            let lcpl = HDF5File.intermediateLCPL()
            defer { H5Pclose(lcpl) }
            let mt = T.hdf5Kind.nativeType
            let did = H5Dcreate2(fid, HDF5File.normalize(path), mt, sid, lcpl, chdf5_p_default(), chdf5_p_default())
            if did < 0 { throw err(.ioFailed, path, "cannot create dataset '\(path)'") }
            defer { H5Dclose(did) }
            if count > 0 {
                let rc = values.withUnsafeBytes { H5Dwrite(did, mt, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress) }
                if rc < 0 { throw err(.ioFailed, path, "cannot write dataset '\(path)'") }
            }
        }
    }

    /// Writes a single number as a scalar dataset.
    public func write<T: HDF5Scalar>(scalar value: T, at path: String) throws {
        try write([value], shape: [], at: path)
    }

    /// Reads a whole numeric dataset with its shape. Floating datasets (any precision) read as `Float`/`Double`;
    /// integer datasets (any width) read as `Int32`/`Int64`/`Int` (a value out of `Int32` range is an error).
    /// Reading a float dataset as integers, or integers as floats, is a `.typeMismatch`.
    public func read<T: HDF5Scalar>(_ type: T.Type, at path: String) throws -> (values: [T], shape: [Int]) {
        try locked { fid in
            let did = try openDataset(fid, path)
            defer { H5Dclose(did) }
            let tid = H5Dget_type(did)
            defer { H5Tclose(tid) }
            let cls = H5Tget_class(tid)
            let want = T.hdf5Kind
            let ok = want.isFloat ? (cls == H5T_FLOAT) : (cls == H5T_INTEGER)
            if !ok {
                throw err(.typeMismatch, path, "dataset '\(path)' has type \(HDF5File.describeType(tid)), expected \(want.isFloat ? "a floating-point" : "an integer") dataset (reading as \(want.rawValue))")
            }
            let sid = H5Dget_space(did)
            defer { H5Sclose(sid) }
            guard let shape = HDF5File.dims(ofSpace: sid) else { throw err(.ioFailed, path, "cannot read shape of '\(path)'") }
            let n = shape.reduce(1, { $0 * $1 })
            if n == 0 { return ([], shape) }
            if want == .int32 {
                // Read through int64 so that out-of-range values are detected instead of silently clamped.
                var wide = [Int64](repeating: 0, count: n)
                if H5Dread(did, chdf5_native_int64(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &wide) < 0 {
                    throw err(.ioFailed, path, "cannot read dataset '\(path)' (file truncated or corrupt?)")
                }
                var out = [Int32](); out.reserveCapacity(n)
                for v in wide {
                    guard let x = Int32(exactly: v) else {
                        throw err(.typeMismatch, path, "dataset '\(path)' holds value \(v), which does not fit in int32")
                    }
                    out.append(x)
                }
                return (out as! [T], shape)
            }
            var failed = false
            let values = [T](unsafeUninitializedCapacity: n) { buf, initialized in
                let rc = H5Dread(did, want.nativeType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), UnsafeMutableRawPointer(buf.baseAddress!))
                if rc < 0 {
                    failed = true
                    memset(UnsafeMutableRawPointer(buf.baseAddress!), 0, n * MemoryLayout<T>.stride)
                }
                initialized = n
            }
            if failed { throw err(.ioFailed, path, "cannot read dataset '\(path)' (file truncated or corrupt?)") }
            return (values, shape)
        }
    }

    /// Reads a dataset and checks its shape, failing with
    /// "dataset 'name' has shape [found], expected [expected]".
    public func read<T: HDF5Scalar>(_ type: T.Type, at path: String, expectingShape expected: [Int]) throws -> [T] {
        let found = try shape(of: path)
        guard found == expected else {
            throw HDF5Error(.shapeMismatch, file: displayName, path: path,
                            message: "dataset '\(path)' has shape \(found), expected \(expected)")
        }
        return try read(type, at: path).values
    }

    public func readFloats(at path: String) throws -> (values: [Float], shape: [Int]) { try read(Float.self, at: path) }
    public func readDoubles(at path: String) throws -> (values: [Double], shape: [Int]) { try read(Double.self, at: path) }
    public func readInt32s(at path: String) throws -> (values: [Int32], shape: [Int]) { try read(Int32.self, at: path) }
    public func readInt64s(at path: String) throws -> (values: [Int64], shape: [Int]) { try read(Int64.self, at: path) }

    // MARK: String datasets

    /// Writes a scalar variable-length UTF-8 string dataset.
    public func writeString(_ value: String, at path: String) throws {
        try writeStrings([value], shape: [], at: path)
    }

    /// Writes an array of variable-length UTF-8 strings (1-D by default).
    public func writeStrings(_ values: [String], shape: [Int]? = nil, at path: String) throws {
        try requireWritable(path)
        let shape = shape ?? [values.count]
        let count = shape.reduce(1, { $0 * $1 })
        guard count == values.count else {
            throw HDF5Error(.invalidArgument, file: displayName, path: path,
                            message: "cannot write dataset '\(path)': shape \(shape) holds \(count) strings, got \(values.count)")
        }
        try locked { fid in
            try prepareDatasetPath(fid, path)
            let tid = HDF5File.makeVLStringType()
            defer { H5Tclose(tid) }
            let sid = HDF5File.makeSpace(shape)
            defer { H5Sclose(sid) }
            let lcpl = HDF5File.intermediateLCPL()
            defer { H5Pclose(lcpl) }
            let did = H5Dcreate2(fid, HDF5File.normalize(path), tid, sid, lcpl, chdf5_p_default(), chdf5_p_default())
            if did < 0 { throw err(.ioFailed, path, "cannot create dataset '\(path)'") }
            defer { H5Dclose(did) }
            if count > 0 {
                let rc = HDF5File.withCStringArray(values) { ptrs in
                    H5Dwrite(did, tid, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), ptrs)
                }
                if rc < 0 { throw err(.ioFailed, path, "cannot write dataset '\(path)'") }
            }
        }
    }

    /// Reads a scalar (or single-element) string dataset.
    public func readString(at path: String) throws -> String {
        let (values, shape) = try readStrings(at: path)
        guard values.count == 1 else {
            throw HDF5Error(.shapeMismatch, file: displayName, path: path,
                            message: "dataset '\(path)' has shape \(shape), expected a single string")
        }
        return values[0]
    }

    /// Reads a string dataset (variable- or fixed-length) with its shape.
    public func readStrings(at path: String) throws -> (values: [String], shape: [Int]) {
        try locked { fid in
            let did = try openDataset(fid, path)
            defer { H5Dclose(did) }
            let tid = H5Dget_type(did)
            defer { H5Tclose(tid) }
            guard H5Tget_class(tid) == H5T_STRING else {
                throw err(.typeMismatch, path, "dataset '\(path)' has type \(HDF5File.describeType(tid)), expected string")
            }
            let sid = H5Dget_space(did)
            defer { H5Sclose(sid) }
            guard let shape = HDF5File.dims(ofSpace: sid) else { throw err(.ioFailed, path, "cannot read shape of '\(path)'") }
            let n = shape.reduce(1, { $0 * $1 })
            guard let values = HDF5File.readStringData(fileType: tid, count: n, read: { mt, buf in
                H5Dread(did, mt, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buf)
            }) else { throw err(.ioFailed, path, "cannot read string dataset '\(path)'") }
            return (values, shape)
        }
    }

    static func makeVLStringType() -> hid_t {
        let tid = H5Tcopy(chdf5_c_s1())
        H5Tset_size(tid, chdf5_t_variable())
        H5Tset_cset(tid, H5T_CSET_UTF8)
        return tid
    }

    static func withCStringArray<R>(_ strings: [String], _ body: (UnsafeRawPointer) -> R) -> R {
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { for p in ptrs { free(p) } }
        return ptrs.withUnsafeMutableBytes { body(UnsafeRawPointer($0.baseAddress!)) }
    }

    /// Reads `count` strings stored with `fileType` via `read(memType, buffer)`; nil on failure. Lock held.
    static func readStringData(fileType: hid_t, count n: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        if n == 0 { return [] }
        let isVar = H5Tis_variable_str(fileType)
        if isVar < 0 { return nil }
        if isVar > 0 {
            let mt = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(mt) }
            H5Tset_size(mt, chdf5_t_variable())
            H5Tset_cset(mt, H5Tget_cset(fileType))
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            let rc = ptrs.withUnsafeMutableBytes { read(mt, $0.baseAddress!) }
            defer { for p in ptrs where p != nil { H5free_memory(p) } }
            if rc < 0 { return nil }
            return ptrs.map { $0.map { String(cString: $0) } ?? "" }
        } else {
            let size = H5Tget_size(fileType)
            if size == 0 { return nil }
            let mt = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(mt) }
            H5Tset_size(mt, size)
            H5Tset_cset(mt, H5Tget_cset(fileType))
            H5Tset_strpad(mt, H5T_STR_NULLPAD)
            var bytes = [UInt8](repeating: 0, count: n * size)
            let rc = bytes.withUnsafeMutableBytes { read(mt, $0.baseAddress!) }
            if rc < 0 { return nil }
            let spacePad = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
            return (0..<n).map { i in
                var slice = Array(bytes[(i * size)..<((i + 1) * size)])
                if let z = slice.firstIndex(of: 0) { slice.removeSubrange(z...) }
                if spacePad { while slice.last == 0x20 { slice.removeLast() } }
                return String(decoding: slice, as: UTF8.self)
            }
        }
    }

    // MARK: Attributes

    /// Sets (or replaces) attribute `name` on the object at `path` ("/" = the file's root group).
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue, on path: String = "/") throws {
        try requireWritable(path)
        try locked { fid in
            guard linkExists(fid, path) else { throw err(.notFound, path, "cannot set attribute '\(name)': object '\(path)' not found") }
            let p = HDF5File.normalize(path)
            let ex = H5Aexists_by_name(fid, p, name, chdf5_p_default())
            if ex < 0 { throw err(.ioFailed, path, "cannot query attribute '\(name)' on '\(path)'") }
            if ex > 0, H5Adelete_by_name(fid, p, name, chdf5_p_default()) < 0 {
                throw err(.ioFailed, path, "cannot replace attribute '\(name)' on '\(path)'")
            }
            func create(_ tid: hid_t, _ shape: [Int], _ write: (hid_t) -> herr_t) throws {
                let sid = HDF5File.makeSpace(shape)
                defer { H5Sclose(sid) }
                let aid = H5Acreate_by_name(fid, p, name, tid, sid, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
                if aid < 0 { throw err(.ioFailed, path, "cannot create attribute '\(name)' on '\(path)'") }
                defer { H5Aclose(aid) }
                if write(aid) < 0 { throw err(.ioFailed, path, "cannot write attribute '\(name)' on '\(path)'") }
            }
            switch value {
            case .int(let v):
                var x = Int64(v)
                try create(chdf5_native_int64(), []) { H5Awrite($0, chdf5_native_int64(), &x) }
            case .ints(let v):
                let x = v.map { Int64($0) }
                try create(chdf5_native_int64(), [x.count]) { aid in x.withUnsafeBytes { H5Awrite(aid, chdf5_native_int64(), $0.baseAddress) } }
            case .double(let v):
                var x = v
                try create(chdf5_native_double(), []) { H5Awrite($0, chdf5_native_double(), &x) }
            case .doubles(let v):
                try create(chdf5_native_double(), [v.count]) { aid in v.withUnsafeBytes { H5Awrite(aid, chdf5_native_double(), $0.baseAddress) } }
            case .string(let s):
                let tid = HDF5File.makeVLStringType()
                defer { H5Tclose(tid) }
                try create(tid, []) { aid in HDF5File.withCStringArray([s]) { H5Awrite(aid, tid, $0) } }
            case .strings(let v):
                let tid = HDF5File.makeVLStringType()
                defer { H5Tclose(tid) }
                try create(tid, [v.count]) { aid in v.isEmpty ? 0 : HDF5File.withCStringArray(v) { H5Awrite(aid, tid, $0) } }
            }
        }
    }

    public func setAttribute(_ name: String, _ value: String, on path: String = "/") throws { try setAttribute(name, .string(value), on: path) }
    public func setAttribute(_ name: String, _ value: Int, on path: String = "/") throws { try setAttribute(name, .int(value), on: path) }
    public func setAttribute(_ name: String, _ value: Double, on path: String = "/") throws { try setAttribute(name, .double(value), on: path) }
    /// Bools are stored as int64 0/1 (h5py's numpy-bool enum attributes are read back by `boolAttribute` too).
    public func setAttribute(_ name: String, _ value: Bool, on path: String = "/") throws { try setAttribute(name, .int(value ? 1 : 0), on: path) }
    public func setAttribute(_ name: String, _ value: [Int], on path: String = "/") throws { try setAttribute(name, .ints(value), on: path) }
    public func setAttribute(_ name: String, _ value: [Double], on path: String = "/") throws { try setAttribute(name, .doubles(value), on: path) }
    public func setAttribute(_ name: String, _ value: [String], on path: String = "/") throws { try setAttribute(name, .strings(value), on: path) }

    /// Names of the attributes on the object at `path`, in name order.
    public func attributeNames(on path: String = "/") throws -> [String] {
        try locked { fid in
            guard linkExists(fid, path) else { throw err(.notFound, path, "object '\(path)' not found") }
            let p = HDF5File.normalize(path)
            let oid = H5Oopen(fid, p, chdf5_p_default())
            if oid < 0 { throw err(.ioFailed, path, "cannot open '\(path)'") }
            defer { H5Oclose(oid) }
            let n = chdf5_attr_count(oid)
            if n < 0 { throw err(.ioFailed, path, "cannot count attributes of '\(path)'") }
            var names: [String] = []
            for i in 0..<Int(n) {
                let len = H5Aget_name_by_idx(oid, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), nil, 0, chdf5_p_default())
                if len < 0 { throw err(.ioFailed, path, "cannot read attribute \(i) name of '\(path)'") }
                var buf = [CChar](repeating: 0, count: Int(len) + 1)
                _ = H5Aget_name_by_idx(oid, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), &buf, buf.count, chdf5_p_default())
                names.append(String(cString: buf))
            }
            return names
        }
    }

    /// Whether attribute `name` exists on the object at `path`.
    public func hasAttribute(_ name: String, on path: String = "/") -> Bool {
        (try? locked { fid -> Bool in
            guard linkExists(fid, path) else { return false }
            let r = H5Aexists_by_name(fid, HDF5File.normalize(path), name, chdf5_p_default())
            if r < 0 { _ = takeHDF5Message() }
            return r > 0
        }) ?? false
    }

    /// Reads an attribute; `nil` if the object has no such attribute. Integer and enum (e.g. numpy bool)
    /// attributes read as `.int`/`.ints`, floating ones as `.double`/`.doubles`, strings as `.string`/`.strings`
    /// (scalar dataspace → scalar case, simple dataspace → array case).
    public func attribute(_ name: String, on path: String = "/") throws -> HDF5AttributeValue? {
        try locked { fid in
            guard linkExists(fid, path) else { throw err(.notFound, path, "object '\(path)' not found") }
            let p = HDF5File.normalize(path)
            let ex = H5Aexists_by_name(fid, p, name, chdf5_p_default())
            if ex < 0 { throw err(.ioFailed, path, "cannot query attribute '\(name)' on '\(path)'") }
            if ex == 0 { return nil }
            let aid = H5Aopen_by_name(fid, p, name, chdf5_p_default(), chdf5_p_default())
            if aid < 0 { throw err(.ioFailed, path, "cannot open attribute '\(name)' on '\(path)'") }
            defer { H5Aclose(aid) }
            let tid = H5Aget_type(aid)
            defer { H5Tclose(tid) }
            let sid = H5Aget_space(aid)
            defer { H5Sclose(sid) }
            guard let shape = HDF5File.dims(ofSpace: sid) else { throw err(.ioFailed, path, "cannot read attribute '\(name)' shape") }
            let n = shape.reduce(1, { $0 * $1 })
            let scalar = shape.isEmpty
            let failure = { self.err(.ioFailed, path, "cannot read attribute '\(name)' on '\(path)'") }
            switch H5Tget_class(tid) {
            case H5T_STRING:
                guard let v = HDF5File.readStringData(fileType: tid, count: n, read: { H5Aread(aid, $0, $1) }) else { throw failure() }
                return scalar ? .string(v.first ?? "") : .strings(v)
            case H5T_INTEGER:
                var v = [Int64](repeating: 0, count: n)
                if n > 0, H5Aread(aid, chdf5_native_int64(), &v) < 0 { throw failure() }
                let ints = v.map { Int($0) }
                return scalar ? .int(ints.first ?? 0) : .ints(ints)
            case H5T_ENUM:
                // numpy bools are int8 enums {FALSE, TRUE}; read the raw base-type bytes.
                let native = H5Tget_native_type(tid, H5T_DIR_ASCEND)
                defer { H5Tclose(native) }
                let size = H5Tget_size(native)
                guard [1, 2, 4, 8].contains(size) else { throw err(.typeMismatch, path, "attribute '\(name)' on '\(path)' is an unsupported enum") }
                var raw = [UInt8](repeating: 0, count: max(1, n * size))
                if n > 0, H5Aread(aid, native, &raw) < 0 { throw failure() }
                let ints: [Int] = (0..<n).map { i in
                    raw.withUnsafeBytes { b -> Int in
                        switch size {
                        case 1: return Int(b.load(fromByteOffset: i, as: Int8.self))
                        case 2: return Int(b.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                        case 4: return Int(b.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                        default: return Int(b.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                        }
                    }
                }
                return scalar ? .int(ints.first ?? 0) : .ints(ints)
            case H5T_FLOAT:
                var v = [Double](repeating: 0, count: n)
                if n > 0, H5Aread(aid, chdf5_native_double(), &v) < 0 { throw failure() }
                return scalar ? .double(v.first ?? 0) : .doubles(v)
            default:
                throw err(.typeMismatch, path, "attribute '\(name)' on '\(path)' has unsupported type \(HDF5File.describeType(tid))")
            }
        }
    }

    private func typed<T>(_ name: String, _ path: String, _ expected: String, _ conv: (HDF5AttributeValue) -> T?) throws -> T? {
        guard let v = try attribute(name, on: path) else { return nil }
        guard let t = conv(v) else {
            throw HDF5Error(.typeMismatch, file: displayName, path: path,
                            message: "attribute '\(name)' on '\(path)' is \(v), expected \(expected)")
        }
        return t
    }

    /// A string attribute, or nil if absent; a non-string attribute is a `.typeMismatch`.
    public func stringAttribute(_ name: String, on path: String = "/") throws -> String? {
        try typed(name, path, "a string") { if case .string(let s) = $0 { return s }; if case .strings(let a) = $0, a.count == 1 { return a[0] }; return nil }
    }
    /// An integer attribute (integer/bool storage, or a float with an integral value), or nil if absent.
    public func intAttribute(_ name: String, on path: String = "/") throws -> Int? {
        try typed(name, path, "an integer") {
            switch $0 {
            case .int(let v): return v
            case .ints(let a) where a.count == 1: return a[0]
            case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int(d)
            default: return nil
            }
        }
    }
    /// A real attribute (float or integer storage), or nil if absent.
    public func doubleAttribute(_ name: String, on path: String = "/") throws -> Double? {
        try typed(name, path, "a number") {
            switch $0 {
            case .double(let v): return v
            case .int(let v): return Double(v)
            case .doubles(let a) where a.count == 1: return a[0]
            case .ints(let a) where a.count == 1: return Double(a[0])
            default: return nil
            }
        }
    }
    /// A boolean attribute: integer 0/1 (our convention), numpy bool, or the strings "true"/"false".
    public func boolAttribute(_ name: String, on path: String = "/") throws -> Bool? {
        try typed(name, path, "a boolean (0/1)") {
            switch $0 {
            case .int(0): return false
            case .int(1): return true
            case .string(let s) where s.lowercased() == "true": return true
            case .string(let s) where s.lowercased() == "false": return false
            default: return nil
            }
        }
    }
    /// An integer-array attribute (a scalar integer reads as a one-element array), or nil if absent.
    public func intsAttribute(_ name: String, on path: String = "/") throws -> [Int]? {
        try typed(name, path, "an integer array") { if case .ints(let a) = $0 { return a }; if case .int(let v) = $0 { return [v] }; return nil }
    }
    /// A real-array attribute (integers converted), or nil if absent.
    public func doublesAttribute(_ name: String, on path: String = "/") throws -> [Double]? {
        try typed(name, path, "a number array") {
            switch $0 {
            case .doubles(let a): return a
            case .ints(let a): return a.map(Double.init)
            case .double(let v): return [v]
            case .int(let v): return [Double(v)]
            default: return nil
            }
        }
    }
}
