// Probes: one ProbeRecord as an HDF5 group (for use outside the harness's run files, which store whole series
// through `ProbeSeries.diagnostics` instead). Layout:
//   <group> attributes: step, total_grad_norm, model_update, model_update_pre_ln, parameter_distance (NaN when absent)
//   <group>/<stack>/layer_grad_norm [L]; <stack>/<self_attn|encoder_attn|ffn>_grad_norm [L];
//   <group>/<stack>/ln_input_norm [K] (attribute names); attributes output_update, output_update_frobenius,
//   output_update_pre_ln, output_update_pre_ln_frobenius (absent in files written before they existed: read as nil)
import HDF5Store

extension ProbeRecord {
    public func write(to file: HDF5File, group: String) throws {
        try file.createGroup(group)
        try file.setAttribute("step", step, on: group)
        try file.setAttribute("total_grad_norm", totalGradNorm, on: group)
        try file.setAttribute("model_update", modelUpdate ?? .nan, on: group)
        try file.setAttribute("model_update_pre_ln", modelUpdatePreLN ?? .nan, on: group)
        try file.setAttribute("parameter_distance", parameterDistance ?? .nan, on: group)
        for s in [encoder, decoder].compactMap({ $0 }) {
            let g = "\(group)/\(s.stack)"
            try file.createGroup(g)
            if !s.layerGradNorm.isEmpty { try file.write(s.layerGradNorm, shape: [s.layerGradNorm.count], at: "\(g)/layer_grad_norm") }
            for (k, v) in s.sublayerGradNorm.sorted(by: { $0.key < $1.key }) where !v.isEmpty {
                try file.write(v, shape: [v.count], at: "\(g)/\(k)_grad_norm")
            }
            if !s.lnInputNorm.isEmpty {
                try file.write(s.lnInputNorm, shape: [s.lnInputNorm.count], at: "\(g)/ln_input_norm")
                try file.setAttribute("names", s.lnNames, on: "\(g)/ln_input_norm")
            }
            try file.setAttribute("output_update", s.outputUpdate ?? .nan, on: g)
            try file.setAttribute("output_update_frobenius", s.outputUpdateFrobenius ?? .nan, on: g)
            try file.setAttribute("output_update_pre_ln", s.preLNOutputUpdate ?? .nan, on: g)
            try file.setAttribute("output_update_pre_ln_frobenius", s.preLNOutputUpdateFrobenius ?? .nan, on: g)
        }
    }

    public static func read(from file: HDF5File, group: String) throws -> ProbeRecord {
        func opt(_ x: Double?) -> Double? { (x?.isNaN ?? true) ? nil : x }
        var r = ProbeRecord(step: try file.intAttribute("step", on: group) ?? 0,
                            totalGradNorm: try file.doubleAttribute("total_grad_norm", on: group) ?? 0,
                            modelUpdate: opt(try file.doubleAttribute("model_update", on: group)),
                            parameterDistance: opt(try file.doubleAttribute("parameter_distance", on: group)),
                            modelUpdatePreLN: opt(try file.doubleAttribute("model_update_pre_ln", on: group)))
        for name in ["encoder", "decoder"] {
            let g = "\(group)/\(name)"
            guard file.exists(g) else { continue }
            var s = StackProbe(stack: name)
            if file.exists("\(g)/layer_grad_norm") { s.layerGradNorm = try file.readDoubles(at: "\(g)/layer_grad_norm").values }
            for k in ["self_attn", "encoder_attn", "ffn"] where file.exists("\(g)/\(k)_grad_norm") {
                s.sublayerGradNorm[k] = try file.readDoubles(at: "\(g)/\(k)_grad_norm").values
            }
            if file.exists("\(g)/ln_input_norm") {
                s.lnInputNorm = try file.readDoubles(at: "\(g)/ln_input_norm").values
                if case .strings(let names)? = try file.attribute("names", on: "\(g)/ln_input_norm") { s.lnNames = names }
            }
            s.outputUpdate = opt(try file.doubleAttribute("output_update", on: g))
            s.outputUpdateFrobenius = opt(try file.doubleAttribute("output_update_frobenius", on: g))
            s.preLNOutputUpdate = opt(try file.doubleAttribute("output_update_pre_ln", on: g))
            s.preLNOutputUpdateFrobenius = opt(try file.doubleAttribute("output_update_pre_ln_frobenius", on: g))
            if name == "encoder" { r.encoder = s } else { r.decoder = s }
        }
        return r
    }
}
