import Foundation

/// A model whose shutdown date is near: shown as a banner in the studio and on the admin page.
public struct ModelDeprecation: Codable, Sendable, Equatable {
    public var model: String
    public var shutdownDate: String
    public var replacement: String?
    public var daysLeft: Int

    enum CodingKeys: String, CodingKey {
        case model, replacement
        case shutdownDate = "shutdown_date", daysLeft = "days_left"
    }
}

/// Dates that act: the registry as it stands on a given day. Every caller passes the time in (the injectable
/// `AtelierClock` on the server), so tests pin the date.
extension ModelRegistry {
    /// Days before `shutdown_date` from which a model is reported `deprecated` (data: `deprecation_notice_days`).
    public var noticeDays: Int { deprecationNoticeDays ?? 30 }

    /// The UTC calendar day ("2026-12-01") of a Unix time.
    public static func day(of time: Double) -> String {
        let parts = Calendar.utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: time))
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// Whole days from `from` to `to` (both "YYYY-MM-DD"); nil when either is not a date.
    static func days(from: String, to: String) -> Int? {
        let format = Date.ISO8601FormatStyle().year().month().day()
        guard let start = try? format.parse(from), let end = try? format.parse(to) else { return nil }
        return Calendar.utc.dateComponents([.day], from: start, to: end).day
    }

    /// On `time`: models on or past their shutdown date move to `retired` (refused locally, naming the
    /// replacement), models within `noticeDays` of it are `deprecated`, and the default model is never one that
    /// has shut down (it falls back to its replacement).
    public func asOf(_ time: Double) -> ModelRegistry {
        let today = Self.day(of: time)
        var dated = self
        dated.models = []
        for var model in models {
            if let shutdown = model.shutdownDate, today >= shutdown {
                dated.retired.append(RetiredModel(id: model.id, retiredOn: shutdown, replacement: model.replacement ?? ""))
                continue
            }
            if let shutdown = model.shutdownDate, let left = Self.days(from: today, to: shutdown), left <= noticeDays {
                model.status = .deprecated
            }
            dated.models.append(model)
        }
        for index in dated.retired.indices {
            dated.retired[index].replacement = dated.liveReplacement(for: dated.retired[index].id)
        }
        if dated.model(defaultModel) == nil { dated.defaultModel = dated.liveReplacement(for: defaultModel) }
        return dated
    }

    /// Models that shut down within `noticeDays` of `time`, soonest first.
    public func deprecations(asOf time: Double) -> [ModelDeprecation] {
        let today = Self.day(of: time)
        let dated = asOf(time)
        return models.compactMap { model -> ModelDeprecation? in
            guard model.enabled, let shutdown = model.shutdownDate, today < shutdown,
                let left = Self.days(from: today, to: shutdown), left <= noticeDays
            else { return nil }
            return ModelDeprecation(
                model: model.id, shutdownDate: shutdown, replacement: dated.liveReplacement(for: model.id), daysLeft: left)
        }.sorted { ($0.daysLeft, $0.model) < ($1.daysLeft, $1.model) }
    }

    /// The refusal for a model that has shut down or was retired: the same message for a new request and for a
    /// queued job claimed after the date.
    public func retirement(of id: String) -> ValidationError? {
        guard let retired = retired.first(where: { $0.id == id }) else { return nil }
        return ValidationError(
            code: "model_retired", field: "model",
            message: "Model '\(id)' was shut down on \(retired.retiredOn); use '\(retired.replacement)' instead.")
    }

    /// Follows `replacement` (registry models, then retired entries) to a model that is still served here; when
    /// the chain ends nowhere, the default model or the first enabled current model.
    func liveReplacement(for id: String) -> String {
        var seen: Set<String> = [id]
        var next = nextReplacement(of: id)
        while let candidate = next, !seen.contains(candidate) {
            if let model = model(candidate), model.enabled { return candidate }
            seen.insert(candidate)
            next = nextReplacement(of: candidate)
        }
        if let model = model(defaultModel), model.enabled { return defaultModel }
        return models.first { $0.enabled && $0.status == .current }?.id ?? models.first?.id ?? defaultModel
    }

    private func nextReplacement(of id: String) -> String? {
        if let found = model(id)?.replacement { return found }
        return retired.first { $0.id == id }.flatMap { $0.replacement.isEmpty ? nil : $0.replacement }
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
