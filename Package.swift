// swift-tools-version: 6.0
// DeepNet reproduction harness. Module dependencies are one-way:
//   DeepNetBase (SHA-256, SplitMix64, JSON string escaping, the batch type)
//   CBLAS, CHDF5 (C shims) -> HDF5Store -> DeepNetEngine (+ DeepNetBase)
//   DeepNetData (+ DeepNetBase; not the engine)
//   DeepNetEngine, DeepNetData -> DeepNetHarness -> Experiments -> deepnet (CLI)
import Foundation
import PackageDescription

// The engine's SIMD8<Float> kernels compile to two 4-wide SSE operations on baseline x86-64; on a CPU with AVX2
// they are one 8-wide operation. The build machine's CPU decides (like -march=native, but only AVX2 — every x86
// server since 2013 has it). Numbers do not change: Swift never contracts a·b + c into an FMA, so the same
// operations run at either width. DEEPNET_TARGET_CPU overrides the choice ("generic" for nodes without AVX2 when
// building on another machine; any LLVM CPU name otherwise).
func targetCPU() -> String? {
    if let forced = ProcessInfo.processInfo.environment["DEEPNET_TARGET_CPU"] { return forced == "generic" ? nil : forced }
    #if os(Linux) && arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let set = Set(flags.split(separator: " ").map(String.init))
    return set.contains("avx2") && set.contains("fma") ? "haswell" : nil
    #else
    return nil
    #endif
}

// Numeric kernels are bounds-checked in debug; release drops the checks because the
// engine's hot loops index flat buffers whose extents are validated once per call.
let engineFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"] + (targetCPU().map { ["-target-cpu", $0] } ?? []),
                                                .when(configuration: .release))]

let package = Package(
    name: "DeepNet",
    products: [
        .executable(name: "deepnet", targets: ["deepnet"]),
        .executable(name: "deepnet-bench", targets: ["deepnet-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .target(name: "HDF5Store", dependencies: ["CHDF5"]),
        .target(name: "DeepNetBase", swiftSettings: engineFlags),
        .target(name: "DeepNetEngine", dependencies: ["DeepNetBase", "CBLAS", "HDF5Store"], swiftSettings: engineFlags),
        .target(name: "DeepNetData", dependencies: ["DeepNetBase"], swiftSettings: engineFlags),
        .target(name: "DeepNetHarness", dependencies: ["DeepNetEngine", "DeepNetData", "HDF5Store"]),
        .target(name: "Experiments", dependencies: ["DeepNetHarness", "DeepNetData"], path: "experiments"),
        .executableTarget(name: "deepnet", dependencies: [
            "DeepNetEngine", "DeepNetData", "DeepNetHarness", "Experiments", "HDF5Store",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "deepnet-bench", dependencies: ["DeepNetEngine", "CBLAS"], swiftSettings: engineFlags),
        .testTarget(name: "EngineTests", dependencies: ["DeepNetEngine", "HDF5Store", "CBLAS"], exclude: ["Fixtures"]),
        .testTarget(name: "DataTests", dependencies: ["DeepNetData", "DeepNetBase"]),
        .testTarget(name: "HarnessTests", dependencies: ["DeepNetHarness", "Experiments", "HDF5Store", "DeepNetEngine"]),
    ],
    swiftLanguageModes: [.v5]
)
