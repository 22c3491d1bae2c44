import Fluent
import Foundation
import SQLKit

/// Settings an admin changes while Atelier runs (kill switch, global daily cap, retention), kept in
/// `app_settings` so every instance sees them. Environment values are the defaults; `KILL_SWITCH=true` wins.
struct RuntimeSettings: Sendable, Equatable {
    var killSwitch: Bool
    /// True when `KILL_SWITCH=true` holds the switch on whatever the admin chooses.
    var killSwitchForced: Bool
    var globalDailyCapNano: Int64?
    var retentionDays: Int
    /// The preview formats the admin enabled (`preview_formats`); `PreviewFormatSettings` adds the environment's.
    var adminPreviewFormats: Set<String> = []

    enum Name: String, CaseIterable {
        case killSwitch = "kill_switch"
        case globalDailyCapNano = "global_daily_cap_nano"
        case retentionDays = "retention_days"
        case previewFormats = "preview_formats"
    }

    static func load(_ database: any Database, access: AtelierConfig.Access) async throws -> RuntimeSettings {
        try await load(database, access: access, alongside: nil).settings
    }

    /// Loads the settings and, in the same statement, `alongside`: a scalar SQL expression of text (or NULL) that a
    /// request needs next, so the two reads are one hop to the database (the early images-per-minute check).
    static func load(
        _ database: any Database, access: AtelierConfig.Access, alongside: SQLQueryString?
    ) async throws -> (settings: RuntimeSettings, alongside: String?) {
        let extra = alongside.map { SQLQueryString(" UNION ALL SELECT NULL AS name, (") + $0 + ") AS value" } ?? ""
        let rows = try await database.sql.raw("SELECT name, value FROM app_settings" + extra).all()
        var values: [String: String] = [:]
        var alongsideValue: String?
        for row in rows {
            guard let name = try row.decode(column: "name", as: String?.self) else {
                alongsideValue = try row.decode(column: "value", as: String?.self)
                continue
            }
            values[name] = try row.decode(column: "value", as: String.self)
        }
        return (settings(values, access: access), alongsideValue)
    }

    private static func settings(_ values: [String: String], access: AtelierConfig.Access) -> RuntimeSettings {
        let cap = values[Name.globalDailyCapNano.rawValue].map { $0 == "none" ? nil : Int64($0) } ?? access.globalDailyCapNano
        return RuntimeSettings(
            killSwitch: access.killSwitch || values[Name.killSwitch.rawValue] == "true",
            killSwitchForced: access.killSwitch,
            globalDailyCapNano: cap,
            retentionDays: values[Name.retentionDays.rawValue].flatMap(Int.init) ?? access.retentionDays,
            adminPreviewFormats: PreviewFormatSettings.stored(values[Name.previewFormats.rawValue]))
    }

    /// Stores one setting (an upsert that works on SQLite and PostgreSQL).
    static func store(_ name: Name, _ value: String, on database: any Database) async throws {
        try await database.sql.raw(
            """
            INSERT INTO app_settings (name, value) VALUES (\(bind: name.rawValue), \(bind: value))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """
        ).run()
    }
}
