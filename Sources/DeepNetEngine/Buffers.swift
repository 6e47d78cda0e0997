// Growable activation buffers and a bump arena for backward temporaries: no allocation in steady state.

/// A float buffer that grows on demand and never shrinks (activations are reused across steps).
final class FloatBuffer {
    private(set) var ptr: FloatPtr
    private(set) var capacity: Int
    init(_ n: Int = 0) { capacity = max(n, 1); ptr = .allocate(capacity: capacity); ptr.initialize(repeating: 0, count: capacity) }
    deinit { ptr.deallocate() }
    /// Pointer to at least n floats (contents undefined after growth).
    @discardableResult func ensure(_ n: Int) -> FloatPtr {
        if n > capacity {
            ptr.deallocate()
            capacity = n
            ptr = .allocate(capacity: n)
            ptr.initialize(repeating: 0, count: n)
        }
        return ptr
    }
}

/// Bump allocator for per-sublayer backward temporaries; `reset()` frees everything at once.
final class Arena {
    private let buffer = FloatBuffer()
    private var used = 0
    func reserve(_ n: Int) { if n > buffer.capacity { buffer.ensure(n) } }
    func reset() { used = 0 }
    func alloc(_ n: Int, zeroed: Bool = true) -> FloatPtr {
        let aligned = (n + 15) & ~15
        precondition(used + aligned <= buffer.capacity, "arena too small: need \(used + aligned), have \(buffer.capacity)")
        let p = buffer.ptr + used
        used += aligned
        if zeroed { zero(p, n) }
        return p
    }
}
