#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed-point formatting through the C library's snprintf (correctly rounded, like Python's
/// `format(x, '.Nf')`).
func fixedFormat(_ x: Double, _ precision: Int) -> String {
    var buf = [CChar](repeating: 0, count: 512)
    let n = withVaList([Int32(precision), x]) { va in
        buf.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, 512, "%.*f", va) }
    }
    if n >= 512 || n < 0 { return String(x) }
    return String(decoding: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
