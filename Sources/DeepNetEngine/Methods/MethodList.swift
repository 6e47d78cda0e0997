// The method list. A new method adds one line here; the model code never changes. The list is a constant:
// every command (train, run, forward-backward, list) sees the same methods, whatever ran before it.
let builtinMethods: [ResidualMethod.Type] = [
    PostLN.self, PreLN.self, DeepNorm.self, DeepNormTorchscale.self,
    PostLNInit.self, DSInit.self, Admin.self, ReZero.self, TFixup.self, RFixup.self,
    NormFormer.self, DLCL.self, SubLN.self, BranchNorm.self,
    // Table XI's ablations of DeepNorm (DeepNormAblations.swift)
    DeepNormWithoutAlpha.self, DeepNormWithoutInit.self,
]
