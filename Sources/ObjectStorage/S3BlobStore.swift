import AsyncHTTPClient
import AtelierCore
import Foundation
import NIOCore
import NIOHTTP1

/// Where an S3-compatible bucket is and how to sign for it.
public struct S3Configuration: Sendable, Equatable {
    /// Scheme, host and port, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
    public var endpoint: String
    public var bucket: String
    public var region: String
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Put before every key (e.g. `atelier/`), so one bucket can serve several installations.
    public var prefix: String
    /// Lifetime of presigned image URLs (`S3_PRESIGN=true`); nil = objects are only read through Atelier.
    public var presignSeconds: Int?

    public init(
        endpoint: String, bucket: String, region: String, accessKeyID: String, secretAccessKey: String, prefix: String = "",
        presignSeconds: Int? = nil
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.prefix = prefix
        self.presignSeconds = presignSeconds
    }
}

/// Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph, moto), addressed path-style and
/// signed with Signature Version 4. A PUT replaces an object whole, so readers see the old or the new bytes,
/// never a part. Uses the application's one shared `HTTPClient`.
public struct S3BlobStore: BlobStore {
    public let configuration: S3Configuration
    let client: HTTPClient
    let signer: SigV4Signer
    /// `host[:port]` of the endpoint, signed and sent as `Host` (nil when the endpoint is not a URL).
    let host: String?
    /// Largest object `get` accepts.
    public var maxObjectBytes = 1 << 30

    public init(configuration: S3Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.client = client
        self.signer = SigV4Signer(
            accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
            region: configuration.region)
        let components = URLComponents(string: configuration.endpoint)
        self.host = components?.host.map { host in components?.port.map { "\(host):\($0)" } ?? host }
    }

    public func put(_ data: Data, at key: BlobKey) async throws {
        let (status, body) = try await send(.PUT, path: objectPath(key), body: data)
        guard status == .ok else { throw failure("PUT", key.value, status, body) }
    }

    public func get(_ key: BlobKey) async throws -> Data {
        let (status, body) = try await send(.GET, path: objectPath(key))
        if status == .notFound { throw BlobStoreError.notFound(key.value) }
        guard status == .ok, let body else { throw failure("GET", key.value, status, body) }
        return Data(body.readableBytesView)
    }

    public func delete(_ key: BlobKey) async throws {
        let (status, body) = try await send(.DELETE, path: objectPath(key))
        guard [.ok, .noContent, .notFound].contains(status) else { throw failure("DELETE", key.value, status, body) }
    }

    public func exists(_ key: BlobKey) async throws -> Bool {
        let (status, body) = try await send(.HEAD, path: objectPath(key))
        if status == .notFound { return false }
        guard status == .ok else { throw failure("HEAD", key.value, status, body) }
        return true
    }

    /// Creates the bucket if it does not exist yet (for first runs and tests).
    public func createBucketIfNeeded() async throws {
        let (status, body) = try await send(.PUT, path: "/\(configuration.bucket)", body: Data())
        let code = body.flatMap(Self.errorCode)
        guard status == .ok || code == "BucketAlreadyOwnedByYou" else {
            throw failure("PUT bucket", configuration.bucket, status, body)
        }
    }

    func objectPath(_ key: BlobKey) -> String {
        "/\(configuration.bucket)/\(configuration.prefix)\(key.value)"
    }

    /// Sends a signed request, retrying what S3 asks clients to retry (500, 502, 503 SlowDown, 504) with back-off,
    /// as the AWS SDKs do; the last answer is returned.
    private func send(_ method: HTTPMethod, path: String, body: Data? = nil) async throws -> (HTTPResponseStatus, ByteBuffer?) {
        var attempt = 0
        while true {
            let (status, bytes) = try await sendOnce(method, path: path, body: body)
            attempt += 1
            guard [.internalServerError, .badGateway, .serviceUnavailable, .gatewayTimeout].contains(status),
                attempt < Self.maxAttempts
            else { return (status, bytes) }
            try await Task.sleep(for: .milliseconds(50 << (2 * (attempt - 1))))  // 50 ms, 200 ms, …
        }
    }

    static let maxAttempts = 4

    private func sendOnce(_ method: HTTPMethod, path: String, body: Data?) async throws -> (HTTPResponseStatus, ByteBuffer?) {
        guard let hostHeader = host else { throw BlobStoreError.io("S3_ENDPOINT \(configuration.endpoint) is not a URL") }
        let signed = signer.sign(
            method: method.rawValue, path: path, headers: ["host": hostHeader],
            payloadHash: SigV4Signer.payloadHash(body ?? Data()), date: Date())
        var request = HTTPClientRequest(url: configuration.endpoint + SigV4Signer.canonicalPath(path))
        request.method = method
        request.headers.add(name: "Host", value: hostHeader)
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do { response = try await client.execute(request, timeout: .seconds(120)) } catch {
            throw BlobStoreError.io("S3 \(method.rawValue) \(path): \(error)")
        }
        let bytes = method == .HEAD ? nil : try await response.body.collect(upTo: maxObjectBytes)
        return (response.status, bytes)
    }

    private func failure(_ what: String, _ name: String, _ status: HTTPResponseStatus, _ body: ByteBuffer?) -> BlobStoreError {
        let code = body.flatMap(Self.errorCode).map { " (\($0))" } ?? ""
        return .io("S3 \(what) \(name) answered \(status.code)\(code); check S3_ENDPOINT, S3_BUCKET and the access key")
    }

    /// The `<Code>` of an S3 XML error document.
    static func errorCode(_ body: ByteBuffer) -> String? {
        let text = String(buffer: body)
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }
}
