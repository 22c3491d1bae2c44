import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where webhooks may be sent: http(s) URLs without credentials whose host resolves only to public addresses
/// (unless `WEBHOOK_ALLOW_PRIVATE=true`). Checked when an endpoint is registered and again before every attempt,
/// against the addresses resolved then; plain-http attempts connect to the checked address itself (the `Host`
/// header keeps the name), so a DNS answer that changes between check and connection cannot redirect them.
struct WebhookURLPolicy: Sendable {
    let allowPrivate: Bool
    let maxLength: Int

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// Where one attempt connects: the URL to request and the `Host` header to send with it, if pinned.
    struct Target: Sendable, Equatable {
        var url: String
        var hostHeader: String?
    }

    /// Checks the URL's form; returns its parts.
    func parse(_ raw: String) throws -> (scheme: String, host: String, components: URLComponents) {
        guard raw.count <= maxLength else { throw Refused(description: "url is longer than \(maxLength) characters") }
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else { throw Refused(description: "url must be an absolute http:// or https:// URL") }
        guard var host = components.host, !host.isEmpty else { throw Refused(description: "url has no host") }
        if components.user != nil || components.password != nil {
            throw Refused(description: "url must not carry a user name or password; authenticate with the webhook signature")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (scheme, host, components)
    }

    /// Resolves the host and checks every address it resolves to.
    func target(for raw: String) async throws -> Target {
        let (scheme, host, components) = try parse(raw)
        if allowPrivate { return Target(url: raw, hostHeader: nil) }
        let addresses = try await Self.resolve(host)
        guard let first = addresses.first else { throw Refused(description: "url host \(host) does not resolve") }
        if let blocked = addresses.first(where: { !IPAddressRange.isPublic($0) }) {
            throw Refused(
                description:
                    "url host \(host) resolves to \(IPAddressRange.text(blocked)), a loopback, link-local or private address; webhooks go to public addresses only"
            )
        }
        guard scheme == "http" else { return Target(url: raw, hostHeader: nil) }
        var pinned = components
        pinned.host = first.count == 4 ? IPAddressRange.text(first) : "[\(IPAddressRange.text(first))]"
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        return Target(url: pinned.string ?? raw, hostHeader: hostHeader)
    }

    /// Every address `host` resolves to (4 bytes for IPv4, 16 for IPv6), looked up off the event loops.
    static func resolve(_ host: String) async throws -> [[UInt8]] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &list)
            guard status == 0 else { throw Refused(description: "url host \(host) does not resolve") }
            defer { freeaddrinfo(list) }
            var addresses: [[UInt8]] = []
            var node = list
            while let info = node?.pointee {
                if info.ai_family == AF_INET, let raw = info.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                        addresses.append(withUnsafeBytes(of: address.pointee.sin_addr) { Array($0) })
                    }
                } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                        addresses.append(withUnsafeBytes(of: address.pointee.sin6_addr) { Array($0) })
                    }
                }
                node = info.ai_next
            }
            return addresses
        }
    }
}
