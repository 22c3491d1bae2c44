import Foundation
import Vapor

/// Finds the studio's files (`Public/`: pages, scripts, `openapi.json`) for a binary started from any directory.
///
/// `PUBLIC_DIR` wins. Otherwise the folder is looked up from the executable's own location, never from the working
/// directory: `Public/` next to the binary (an installed copy: `/opt/atelier/atelier` + `/opt/atelier/Public`),
/// then `../share/atelier/Public` (a `/usr/local/bin` + `/usr/local/share` layout), then the package checkout the
/// binary was built in (`.build/<triple>/debug/atelier` → the repository's `Public/`, for development).
enum StudioFiles {
    static let marker = "index.html"

    static func directory(environment: [String: String], executable: URL? = executableURL) -> String? {
        if let configured = environment["PUBLIC_DIR"], !configured.isEmpty { return configured }
        return candidates(executable: executable).first { holdsStudio($0) }?.path
    }

    static func candidates(executable: URL?) -> [URL] {
        guard let folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent() else { return [] }
        var found = [folder.appendingPathComponent("Public"), folder.appendingPathComponent("../share/atelier/Public").standardized]
        var ancestor = folder
        for _ in 0..<4 {
            ancestor = ancestor.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: ancestor.appendingPathComponent("Package.swift").path) {
                found.append(ancestor.appendingPathComponent("Public"))
                break
            }
        }
        return found
    }

    static func holdsStudio(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(marker).path)
    }

    /// The running binary (`/proc/self/exe` on Linux, so a symlinked or `$PATH` start still finds its files).
    static var executableURL: URL? {
        #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                return URL(fileURLWithPath: path)
            }
        #endif
        return Bundle.main.executableURL
    }

    /// Why `config`'s studio cannot be served, or nil when its files are there.
    static func problem(_ config: AtelierConfig) -> String? {
        problem(publicDirectory: config.publicDirectory, configured: !(Environment.get("PUBLIC_DIR") ?? "").isEmpty)
    }

    static func problem(publicDirectory: String, configured: Bool) -> String? {
        if holdsStudio(URL(fileURLWithPath: publicDirectory)) { return nil }
        if configured { return "PUBLIC_DIR=\(publicDirectory) has no \(marker): point it at a copy of the studio's Public/ folder" }
        let looked = candidates(executable: executableURL).map(\.path).joined(separator: ", ")
        return
            "the studio's files (Public/) were not found next to the executable (looked in \(looked)): copy Public/ next to the binary or set PUBLIC_DIR"
    }
}
