import AtelierMCP
import Foundation
import MCP

/// The Streamable HTTP sessions of `/mcp`: one SDK `Server` + `StatefulHTTPServerTransport` per session, bound to
/// the caller that opened it (user and API key). A request for a session of another caller is answered as if the
/// session did not exist. Bounded: at most `perCaller` sessions per caller and `total` in all (the least recently
/// used goes first), and a session idle for `idleTimeout` is closed.
actor MCPSessions {
    static let perCaller = 8
    static let total = 1_000
    static let idleTimeout: Duration = .seconds(30 * 60)

    struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        let principal: String
        var lastUsed: ContinuousClock.Instant
    }

    private var sessions: [String: Session] = [:]

    /// The session's transport when it exists and belongs to `principal`.
    func transport(_ id: String, principal: String) -> StatefulHTTPServerTransport? {
        guard var session = sessions[id], session.principal == principal else { return nil }
        session.lastUsed = .now
        sessions[id] = session
        return session.transport
    }

    func add(_ id: String, server: Server, transport: StatefulHTTPServerTransport, principal: String) async {
        await closeIdle()
        let mine = sessions.filter { $0.value.principal == principal }
        if mine.count >= Self.perCaller, let oldest = mine.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            await close(oldest.key)
        }
        if sessions.count >= Self.total, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            await close(oldest.key)
        }
        sessions[id] = Session(server: server, transport: transport, principal: principal, lastUsed: .now)
    }

    func close(_ id: String) async {
        guard let session = sessions.removeValue(forKey: id) else { return }
        await session.server.stop()
    }

    func closeAll() async {
        for id in sessions.keys { await close(id) }
    }

    var count: Int { sessions.count }

    private func closeIdle() async {
        let cutoff = ContinuousClock.now - Self.idleTimeout
        for (id, session) in sessions where session.lastUsed < cutoff { await close(id) }
    }
}
