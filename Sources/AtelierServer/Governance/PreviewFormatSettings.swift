import AtelierCore
import Fluent
import SQLKit

/// Which preview output formats (gif, svg) are enabled: `OPENAI_PREVIEW_FORMATS` plus the admin's choice, kept in
/// `app_settings` (`preview_formats`, a comma list) so every instance sees it. A model must also list the format.
struct PreviewFormatSettings: Sendable, Equatable {
    /// From the environment: on whatever the admin chooses.
    var forced: Set<String>
    /// Chosen on the admin page.
    var admin: Set<String>

    var all: Set<String> { forced.union(admin) }

    static let known = ImageRequestValidator.previewFormats

    static func parse(_ raw: String?, problems: inout [String]) -> Set<String> {
        let names = (raw ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != "none" }
        let unknown = names.filter { !known.contains($0) }
        if !unknown.isEmpty {
            problems.append(
                "OPENAI_PREVIEW_FORMATS=\(raw ?? "") may list gif and svg only (comma-separated); not \(unknown.joined(separator: ", "))")
        }
        return Set(names.filter(known.contains))
    }

    static func enabled(_ database: any Database, config: AtelierConfig) async throws -> PreviewFormatSettings {
        let row = try await database.sql
            .raw("SELECT value FROM app_settings WHERE name = \(bind: RuntimeSettings.Name.previewFormats.rawValue)").first()
        return PreviewFormatSettings(forced: config.previewFormats, admin: stored(try row?.decode(column: "value", as: String.self)))
    }

    /// The admin's choice as stored in `app_settings` (a comma list; unknown names are ignored).
    static func stored(_ value: String?) -> Set<String> {
        Set((value ?? "").split(separator: ",").map(String.init).filter(known.contains))
    }

    static func store(_ formats: Set<String>, on database: any Database) async throws {
        try await RuntimeSettings.store(.previewFormats, formats.sorted().joined(separator: ","), on: database)
    }
}
