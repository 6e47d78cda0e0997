import Foundation

/// A tiny mutex wrapper.
final class NSLockShim: @unchecked Sendable {
    private let l = NSLock()
    func run<T>(_ body: () throws -> T) rethrows -> T { l.lock(); defer { l.unlock() }; return try body() }
}
