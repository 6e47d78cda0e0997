// A reusable op chain (used for stack outputs and DLCL history ops) with its activation buffers.

final class ChainState {
    var outs: [FloatBuffer] = []
    var caches: [FloatBuffer] = []
    var inputs: [FloatPtr] = []
    init(count: Int) { outs = (0..<count).map { _ in FloatBuffer() }; caches = (0..<count).map { _ in FloatBuffer() } }
}

func runOps(_ ops: [ActivationOp], _ st: ChainState, _ x: FloatPtr, rows: Int, width: Int, params: FloatPtr, ctx: OpContext) -> FloatPtr {
    if ops.isEmpty { return x }
    st.inputs.removeAll(keepingCapacity: true)
    var cur = x
    for (i, op) in ops.enumerated() {
        st.inputs.append(cur)
        let y = st.outs[i].ensure(rows * width)
        let c = st.caches[i].ensure(max(1, op.cacheSize(rows: rows, width: width)))
        op.forward(x: cur, y: y, rows: rows, width: width, params: params, cache: c, context: ctx)
        cur = y
    }
    return cur
}

/// Returns ∂L/∂(chain input); accumulates into `into` when given.
func backOps(_ ops: [ActivationOp], _ st: ChainState, dy: FloatPtr, rows: Int, width: Int, params: FloatPtr, grads: FloatPtr,
             ctx: OpContext, arena: Arena, into: FloatPtr? = nil) -> FloatPtr {
    let n = rows * width
    if ops.isEmpty {
        guard let into else { return dy }
        for i in 0..<n { into[i] += dy[i] }
        return into
    }
    var cur = dy
    for i in stride(from: ops.count - 1, through: 0, by: -1) {
        let dx = (i == 0 && into != nil) ? into! : arena.alloc(n)
        ops[i].backward(dy: cur, dx: dx, x: st.inputs[i], y: st.outs[i].ptr, rows: rows, width: width, params: params,
                        grads: grads, cache: st.caches[i].ptr, context: ctx)
        cur = dx
    }
    return cur
}
