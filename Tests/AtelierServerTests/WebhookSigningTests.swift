import Foundation
@testable import AtelierServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Standard Webhooks signing, secrets at rest, and where webhooks may be sent.
@Suite struct WebhookSigningTests {
    @Test func signatureMatchesTheStandardWebhooksTestVector() throws {
        // The specification's published example (also what the `standardwebhooks` libraries test against).
        let key = try #require(WebhookSigner.key(from: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8), key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let other = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_331, body: Data(#"{"test": 2432232314}"#.utf8), key: key)
        #expect(other != signature)
    }

    @Test func newSecretsAreWhsecWith32RandomBytes() throws {
        let a = WebhookSigner.newSecret(), b = WebhookSigner.newSecret()
        #expect(a.hasPrefix("whsec_") && a != b)
        #expect(try #require(WebhookSigner.key(from: a)).count == 32)
        #expect(WebhookSigner.key(from: "whsec_not base64!") == nil)
    }

    @Test func sealedSecretsOpenOnlyWithTheirKey() throws {
        let key = Data((0..<32).map { UInt8($0) })
        let box = WebhookSecretBox(key: key)
        let secret = WebhookSigner.newSecret()
        let sealed = try box.seal(secret)
        #expect(sealed.hasPrefix("aesgcm:") && !sealed.contains(secret.dropFirst(6)))
        #expect(try box.open(sealed) == secret)
        #expect(throws: WebhookSecretBox.Unavailable.self) { try WebhookSecretBox(key: nil).open(sealed) }
        #expect(throws: WebhookSecretBox.Unavailable.self) { try WebhookSecretBox(key: Data(repeating: 7, count: 32)).open(sealed) }
        // Without a key secrets are stored as given, and still open once a key is set.
        let plain = try WebhookSecretBox(key: nil).seal(secret)
        #expect(plain == "plain:" + secret)
        #expect(try box.open(plain) == secret)
    }

    static func bytes(_ text: String) -> [UInt8] {
        if text.contains(":") {
            var address = in6_addr()
            _ = inet_pton(AF_INET6, text, &address)
            return withUnsafeBytes(of: address) { Array($0) }
        }
        var address = in_addr()
        _ = inet_pton(AF_INET, text, &address)
        return withUnsafeBytes(of: address) { Array($0) }
    }

    @Test(arguments: [
        ("127.0.0.1", false), ("10.1.2.3", false), ("172.16.0.1", false), ("172.31.255.255", false), ("192.168.1.1", false),
        ("169.254.169.254", false), ("100.64.0.1", false), ("0.0.0.0", false), ("224.0.0.1", false), ("255.255.255.255", false),
        ("8.8.8.8", true), ("172.32.0.1", true), ("93.184.216.34", true),
        ("::1", false), ("::", false), ("fe80::1", false), ("fc00::1", false), ("fd12:3456::1", false), ("ff02::1", false),
        ("::ffff:127.0.0.1", false), ("::ffff:10.0.0.1", false), ("::ffff:8.8.8.8", true), ("::127.0.0.1", false),
        ("64:ff9b::a00:1", false), ("64:ff9b::808:808", true), ("2002:7f00:1::", false), ("2002:808:808::", true),
        ("2001:db8::1", false), ("2606:4700:4700::1111", true), ("2a00:1450:4001:80b::200e", true),
    ])
    func addressesArePublicOnlyWhenGloballyRoutable(address: String, isPublic: Bool) {
        #expect(IPAddressRange.isPublic(Self.bytes(address)) == isPublic, "\(address)")
    }

    @Test func urlsOutsideThePolicyAreRefusedBeforeAndAfterResolution() async throws {
        let policy = WebhookURLPolicy(allowPrivate: false, maxLength: 100)
        for url in [
            "ftp://example.com/x", "example.com/hook", "http://user:pw@example.com/",
            "https://example.com/" + String(repeating: "a", count: 100),
            "http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://2130706433/",
            "http://0x7f.1/", "http://localhost/hook", "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/",
        ] {
            await #expect(throws: WebhookURLPolicy.Refused.self, "\(url)") { _ = try await policy.target(for: url) }
        }
        // Public addresses pass; plain http connects to the checked address, naming the host in `Host`.
        #expect(
            try await policy.target(for: "http://8.8.8.8:8080/hook?x=1")
                == .init(url: "http://8.8.8.8:8080/hook?x=1", hostHeader: "8.8.8.8:8080"))
        #expect(try await policy.target(for: "https://8.8.8.8/hook") == .init(url: "https://8.8.8.8/hook", hostHeader: nil))
        // WEBHOOK_ALLOW_PRIVATE=true lets loopback through, but never another scheme.
        let open = WebhookURLPolicy(allowPrivate: true, maxLength: 100)
        #expect(try await open.target(for: "http://127.0.0.1:9/hook").url == "http://127.0.0.1:9/hook")
        await #expect(throws: WebhookURLPolicy.Refused.self) { _ = try await open.target(for: "file:///etc/passwd") }
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        var settings = AtelierConfig.Webhooks()
        settings.retryBaseSeconds = 10
        settings.maxDelaySeconds = 100
        for (attempt, full) in [(1, 10.0), (2, 20), (3, 40), (4, 80), (5, 100), (30, 100)] {
            for _ in 0..<20 {
                let delay = WebhookDispatcher.backoff(attempt: attempt, settings: settings)
                #expect(delay >= full * 0.75 && delay <= full, "attempt \(attempt): \(delay)")
            }
        }
    }

    @Test func environmentSettingsAreParsedAndCheckedTogether() {
        var problems: [String] = []
        let hooks = AtelierConfig.Webhooks.fromEnvironment(
            [
                "WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_BASE_SECONDS": "0.5", "WEBHOOK_MAX_AGE_SECONDS": "5",
                "WEBHOOK_ENCRYPTION_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
            ], problems: &problems)
        #expect(problems.isEmpty && hooks.allowPrivate && hooks.retryBaseSeconds == 0.5 && hooks.maxAgeSeconds == 5)
        #expect(hooks.encryptionKey?.count == 32)
        _ = AtelierConfig.Webhooks.fromEnvironment(
            ["WEBHOOK_ALLOW_PRIVATE": "maybe", "WEBHOOK_MAX_AGE_SECONDS": "0", "WEBHOOK_ENCRYPTION_KEY": "short"], problems: &problems)
        #expect(problems.count == 3, "\(problems)")
    }
}
