@testable import AtelierServer
import Foundation
import Testing

/// `OPENAI_API_KEYS`, `OPENAI_RATE_LIMITS`, `OPENAI_RATE_WINDOW_SECONDS`, `JOB_RATE_LIMIT_WAIT`.
@Suite struct UpstreamSettingsTests {
    @Test func keysLimitsAndWaitsAreReadFromTheEnvironment() throws {
        let config = try AtelierConfig.fromEnvironment([
            "DATA_DIR": "/tmp/atelier-settings-test",
            "OPENAI_API_KEYS": "main:sk-aaa-secret;organization=org-main;project=proj_main, sk-bbb-secret",
            "OPENAI_ORGANIZATION": "org-shared",
            "OPENAI_RATE_LIMITS": "gpt-image-2:ipm=5,rpm=50; key2/gpt-image-2:ipm=10 *:ipm=3",
            "OPENAI_RATE_WINDOW_SECONDS": "6", "JOB_RATE_LIMIT_WAIT": "1800",
        ])
        #expect(config.upstreamKeys.map(\.label) == ["main", "key2"])
        #expect(config.upstreamKeys[0].organization == "org-main" && config.upstreamKeys[0].project == "proj_main")
        #expect(config.upstreamKeys[1].organization == "org-shared" && config.upstreamKeys[1].apiKey == "sk-bbb-secret")
        #expect(config.openAI?.apiKey == "sk-aaa-secret")
        #expect(!"\(config.upstreamKeys)".contains("secret"))
        let upstream = config.upstream
        #expect(upstream.limits(key: "main", model: "gpt-image-2") == (5, 50))
        #expect(upstream.limits(key: "key2", model: "gpt-image-2") == (10, 50))
        #expect(upstream.limits(key: "main", model: "gpt-image-1.5") == (3, nil))
        #expect(upstream.windowSeconds == 6 && upstream.maxWaitSeconds == 1800)
    }

    @Test func theSingleKeyIsTheDefaultLane() throws {
        let config = try AtelierConfig.fromEnvironment(["DATA_DIR": "/tmp/atelier-settings-test", "OPENAI_API_KEY": "sk-one"])
        #expect(config.upstreamKeys.map(\.label) == ["default"])
        #expect(config.upstream.maxWaitSeconds == 3600 && config.upstream.windowSeconds == 60)
    }

    @Test func badSettingsAreListedWithoutTheSecret() {
        #expect {
            try AtelierConfig.fromEnvironment([
                "DATA_DIR": "/tmp/atelier-settings-test",
                "OPENAI_API_KEYS": "Bad Label:sk-hidden-secret,ok:sk-x;colour=blue",
                "OPENAI_RATE_LIMITS": "gpt-image-9:ipm=5 nokey/gpt-image-2:ipm=1 gpt-image-2:ipm=zero",
                "JOB_RATE_LIMIT_WAIT": "soon",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("OPENAI_API_KEYS entry 1") && text.contains("unknown option 'colour'")
                && text.contains("gpt-image-9") && text.contains("names key nokey") && text.contains("'ipm=zero'")
                && text.contains("JOB_RATE_LIMIT_WAIT=soon") && !text.contains("hidden-secret")
        }
    }
}
