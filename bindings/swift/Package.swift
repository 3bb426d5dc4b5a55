// swift-tools-version:6.0
//
// Swift binding for lifeline, the C SDK that keeps a point-of-sale or kiosk
// app connected to its server over WebSocket.
//
// The C library is found through pkg-config ("lifeline.pc"): install it and
// point PKG_CONFIG_PATH at its pkgconfig folder (see README.md).
import PackageDescription

let package = Package(
    name: "Lifeline",
    products: [
        .library(name: "Lifeline", targets: ["Lifeline"]),
    ],
    targets: [
        // The C API exactly as the installed <lifeline/lifeline.h> declares it.
        .systemLibrary(
            name: "CLifeline",
            pkgConfig: "lifeline"
        ),
        .target(
            name: "Lifeline",
            dependencies: ["CLifeline"]
        ),
        .testTarget(
            name: "LifelineTests",
            dependencies: ["Lifeline", "CLifeline"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
