// The built-in method list. A new method adds one line here (or registers itself at runtime with
// `MethodRegistry.register`); the model code never changes.
let builtinMethods: [ResidualMethod.Type] = [
    PostLN.self, PreLN.self, DeepNorm.self, DeepNormTorchscale.self,
    PostLNInit.self, DSInit.self, Admin.self, ReZero.self, TFixup.self, RFixup.self,
    NormFormer.self, DLCL.self, SubLN.self, BranchNorm.self,
]
