import Vapor

extension Request {
    /// Who owns what this request creates and may see: the signed-in user's id (lowercase), "local" when login
    /// is off. Without a caller it matches nothing.
    var owner: String { caller?.owner ?? "\u{0}anonymous" }

    var idempotencyKey: String? {
        guard let key = headers.first(name: "Idempotency-Key")?.trimmingCharacters(in: .whitespaces), !key.isEmpty
        else { return nil }
        return String(key.prefix(200))
    }
}
