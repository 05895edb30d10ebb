// swift-tools-version:6.0
import PackageDescription

/// Hot numerical code is compiled with `-Ounchecked` in release builds (no overflow or
/// bounds traps in inner loops); debug builds keep every check for the tests.
/// Release builds also target the CPU that builds them (like `-march=native`), so the
/// engine's own element-wise, normalisation and im2col loops use its widest vectors
/// (AVX2/AVX-512 rather than SSE2); OpenBLAS picks its kernels at run time either way.
/// The values computed are the same (measured bit-identical for `generate`). Set
/// ENSEMBLEGEN_PORTABLE_BUILD=1 to build a binary for another machine of the architecture.
let cpuTuning = Context.environment["ENSEMBLEGEN_PORTABLE_BUILD"] == nil ? ["-target-cpu", "native"] : []
let fastRelease: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"] + cpuTuning, .when(configuration: .release))]

let package = Package(
    name: "EnsembleGen",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ensemblegen", targets: ["ensemblegen"]),
        .library(name: "EnsembleGen", targets: ["EnsembleGen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian: libnetcdf-dev, libopenblas-dev + liblapacke-dev, libproj-dev, libcairo2-dev).
        .systemLibrary(name: "CNetCDF", pkgConfig: "netcdf", providers: [.apt(["libnetcdf-dev"])]),
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CProj", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),

        .target(name: "RandomStreams", swiftSettings: fastRelease),
        // How every output file is written (checked destination, exclusive `.partial`, rename).
        .target(name: "OutputFiles"),
        .target(name: "NetCDF", dependencies: ["CNetCDF"]),
        // Error-bounded coding of fields: EOF prediction, residual quantisation, rANS entropy coding.
        .target(name: "Compression", dependencies: ["CBLAS"], swiftSettings: fastRelease),
        .target(name: "Tensor", dependencies: ["CBLAS", "RandomStreams", "OutputFiles"], swiftSettings: fastRelease),
        .target(name: "Climate", dependencies: ["NetCDF", "CProj", "OutputFiles"], swiftSettings: fastRelease),
        .target(name: "Simulator", dependencies: ["Climate", "RandomStreams"], swiftSettings: fastRelease),
        .target(name: "Models", dependencies: ["Tensor", "Climate", "CBLAS"], swiftSettings: fastRelease),
        .target(name: "Diagnostics",
                dependencies: ["Climate", "CBLAS", "CProj", "CCairo", "RandomStreams", "OutputFiles"],
                swiftSettings: fastRelease),
        .target(name: "EnsembleGen",
                dependencies: ["NetCDF", "Climate", "Simulator", "Tensor", "Models", "Diagnostics", "RandomStreams", "OutputFiles",
                               "Compression"],
                plugins: ["BuildCommit"]),
        // Writes the git commit the binary is built from into EnsembleGen (`EnsembleGenVersion.commit`).
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // Engine benchmark driven by Scripts/bench/engine.sh (release builds).
        .executableTarget(name: "TensorBench", dependencies: ["Tensor", "Models", "RandomStreams", "CBLAS"],
                          swiftSettings: fastRelease),
        .executableTarget(name: "ensemblegen",
                          dependencies: ["EnsembleGen",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Shared by the test targets (imports XCTest): the repository root, running processes,
        // and one helper per outside need (.venv, validator tools, check-cf.sh, shared data, the
        // release binary) that skips when it is missing, or fails in CI (ENSEMBLEGEN_CI=1).
        .target(name: "TestEnvironment", dependencies: ["Climate"], path: "Tests/TestEnvironment"),

        .testTarget(name: "RandomStreamsTests", dependencies: ["RandomStreams"]),
        .testTarget(name: "OutputFilesTests", dependencies: ["OutputFiles"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "RandomStreams"]),
        .testTarget(name: "NetCDFTests", dependencies: ["NetCDF", "TestEnvironment"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "RandomStreams", "TestEnvironment"]),
        .testTarget(name: "ClimateTests", dependencies: ["Climate", "NetCDF", "TestEnvironment"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Climate"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensor", "Climate"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "Climate", "Simulator", "TestEnvironment"]),
        .testTarget(name: "EnsembleGenTests", dependencies: ["EnsembleGen", "Climate", "NetCDF", "TestEnvironment"]),
    ],
    swiftLanguageModes: [.v5]
)
