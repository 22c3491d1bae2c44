// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "atelier",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "atelier", targets: ["atelier"])
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", exact: "0.12.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Framework-free domain: model registry, validation, cost maths, ports.
        .target(
            name: "AtelierCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            resources: [.copy("Resources/models.json")],
            swiftSettings: swiftSettings
        ),
        // libvips through a system-library target and a small C shim.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .target(name: "CVipsShim", dependencies: ["CVips"]),
        .target(
            name: "ImageProcessing",
            dependencies: ["AtelierCore", "CVips", "CVipsShim"],
            swiftSettings: swiftSettings
        ),
        // AVX2 base64 decoding for the images the client receives (a plain C target, no library).
        .target(name: "CBase64"),
        // The OpenAI Images API client over one shared AsyncHTTPClient.
        .target(
            name: "OpenAIImages",
            dependencies: [
                "AtelierCore", "CBase64",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Blob storage implementations (local disk, S3-compatible buckets).
        .target(
            name: "ObjectStorage",
            dependencies: [
                "AtelierCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OpenAI-compatible stand-in upstream used by tests, benchmarks and demos.
        .target(
            name: "OpenAIStandIn",
            dependencies: [
                "AtelierCore", "ImageProcessing",
                .product(name: "Vapor", package: "vapor"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP server's tools, resources and stdio bridge over the official MCP Swift SDK; framework-free.
        .target(
            name: "AtelierMCP",
            dependencies: [
                "AtelierCore",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Everything Vapor and Fluent.
        .target(
            name: "AtelierServer",
            dependencies: [
                "AtelierCore", "OpenAIImages", "ObjectStorage", "ImageProcessing", "OpenAIStandIn", "AtelierMCP",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "atelier", dependencies: ["AtelierServer"], swiftSettings: swiftSettings),
        .target(
            name: "AtelierTesting",
            dependencies: [
                "AtelierServer", "AtelierCore", "ImageProcessing", "OpenAIStandIn",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "image-bench", dependencies: ["ImageProcessing"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "atelier-bench",
            dependencies: [
                "AtelierServer", "AtelierTesting", "OpenAIImages", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "AtelierCoreTests", dependencies: ["AtelierCore"], swiftSettings: swiftSettings),
        .testTarget(name: "ImageProcessingTests", dependencies: ["ImageProcessing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "OpenAIImagesTests",
            dependencies: ["OpenAIImages", "OpenAIStandIn", "AtelierTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: ["ObjectStorage", "AtelierCore", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AtelierServerTests",
            dependencies: [
                "AtelierServer", "AtelierTesting", "AtelierMCP", .product(name: "MCP", package: "swift-sdk"),
                .product(name: "VaporTesting", package: "vapor"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
