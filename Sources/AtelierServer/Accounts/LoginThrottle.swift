import Fluent
import Foundation
import SQLKit

/// Slows password guessing without locking anyone out: failed sign-ins are counted per email+address pair, per
/// client address and per email (`login_throttle`, shared by every instance). Past a subject's free failures each
/// further failure doubles the wait before the next attempt (1 s, 2 s, 4 s …) up to the subject's ceiling. The
/// per-email ceiling is short (a minute), so a stranger hammering someone's email from many addresses slows
/// that account's sign-in but never blocks it; a success clears the pair and the email.
struct LoginThrottle: Sendable {
    struct Rule: Sendable {
        var freeFailures: Int64
        var maxDelaySeconds: Double
    }

    static let pairRule = Rule(freeFailures: 5, maxDelaySeconds: 900)
    static let addressRule = Rule(freeFailures: 20, maxDelaySeconds: 900)
    static let emailRule = Rule(freeFailures: 20, maxDelaySeconds: 60)

    let database: any Database
    let clock: AtelierClock

    private func subjects(email: String, address: String) -> [(String, Rule)] {
        [("pair:\(email)|\(address)", Self.pairRule), ("ip:\(address)", Self.addressRule), ("email:\(email)", Self.emailRule)]
    }

    /// 429 with Retry-After while any subject waits.
    func check(email: String, address: String) async throws {
        let names = subjects(email: email, address: address).map(\.0)
        let rows = try await sql.raw(
            """
            SELECT blocked_until FROM login_throttle WHERE subject IN (\(SQLList(names.map { SQLBind($0) })))
            """
        ).all()
        let until = try rows.map { try $0.decode(column: "blocked_until", as: Double.self) }.max() ?? 0
        let wait = until - clock.now()
        guard wait > 0 else { return }
        let seconds = Int(wait.rounded(.up))
        var error = APIError(
            status: .tooManyRequests, code: "login_throttled",
            message: "Too many failed sign-ins: try again in \(seconds) s.")
        error.headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
        throw error
    }

    /// Counts a failure against every subject and sets when each may try again.
    func failed(email: String, address: String) async throws {
        let now = clock.now()
        for (subject, rule) in subjects(email: email, address: address) {
            let failures =
                try await sql.raw(
                    """
                    INSERT INTO login_throttle (subject, failures, blocked_until, updated_at) VALUES (\(bind: subject), 1, 0, \(bind: now))
                    ON CONFLICT (subject) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at
                    RETURNING failures
                    """
                ).first()?.decode(column: "failures", as: Int64.self) ?? 1
            let delay = Self.delay(failures: failures, rule: rule)
            guard delay > 0 else { continue }
            try await sql.raw(
                """
                UPDATE login_throttle SET blocked_until = \(bind: now + delay) WHERE subject = \(bind: subject)
                """
            ).run()
        }
    }

    /// A right password clears the email's and the pair's counts (not the address's: one's own account must not
    /// reset a guesser's address).
    func succeeded(email: String, address: String) async throws {
        let names = subjects(email: email, address: address).map(\.0).filter { !$0.hasPrefix("ip:") }
        try await sql.raw("DELETE FROM login_throttle WHERE subject IN (\(SQLList(names.map { SQLBind($0) })))").run()
    }

    /// Drops counts untouched for a day.
    func purge() async throws {
        try await sql.raw("DELETE FROM login_throttle WHERE updated_at < \(bind: clock.now() - 86_400)").run()
    }

    static func delay(failures: Int64, rule: Rule) -> Double {
        guard failures >= rule.freeFailures else { return 0 }
        return min(rule.maxDelaySeconds, pow(2, Double(min(failures - rule.freeFailures, 30))))
    }

    private var sql: any SQLDatabase { database.sql }
}
