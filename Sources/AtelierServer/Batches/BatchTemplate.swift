import Foundation

/// A prompt with `{{variables}}` (names of letters, digits, `_`, `-` and `.`; spaces inside the braces are
/// allowed), filled in from a row.
struct BatchTemplate: Sendable {
    private enum Piece: Sendable {
        case text(String)
        case variable(String)
    }

    private let pieces: [Piece]
    /// Each variable once, in order of first use.
    let variables: [String]

    init(_ template: String) {
        var pieces: [Piece] = []
        var variables: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard Self.isName(name) else {
                pieces.append(.text(String(rest[..<open.upperBound])))
                rest = rest[open.upperBound...]
                continue
            }
            pieces.append(.text(String(rest[..<open.lowerBound])))
            pieces.append(.variable(name))
            if !variables.contains(name) { variables.append(name) }
            rest = rest[close.upperBound...]
        }
        pieces.append(.text(String(rest)))
        self.pieces = pieces
        self.variables = variables
    }

    /// The prompt for one row; every variable must be in `values`.
    func render(_ values: [String: String]) -> String {
        var prompt = ""
        for piece in pieces {
            switch piece {
            case .text(let text): prompt += text
            case .variable(let name): prompt += values[name] ?? ""
            }
        }
        return prompt
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)
            }
    }
}
