import Foundation
import ImageProcessing
import Vapor

/// A JSON scalar as sent by the caller (type-preserving).
enum ParamValue: Decodable, Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case other
    /// A multipart text part (typed on access).
    case text(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .other
        }
    }
}

/// A multipart file part.
struct UploadedPart: Sendable {
    var name: String
    var filename: String?
    var contentType: String?
    var data: Data
}

/// A request body, parsed but not yet validated.
struct ParsedCall: Sendable {
    var params: [String: ParamValue] = [:]
    var fieldOrder: [String] = []
    var files: [UploadedPart] = []
    var rawJSON: Data?

    func string(_ key: String) throws(APIError) -> String? {
        switch params[key] {
        case nil, .null: return nil
        case .string(let s), .text(let s): return s
        default:
            throw APIError(
                status: .badRequest, message: "Invalid type for '\(key)': expected a string.", param: key,
                code: "invalid_type")
        }
    }

    func int(_ key: String) throws(APIError) -> Int? {
        switch params[key] {
        case nil, .null: return nil
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        case .text(let s):
            if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw APIError(
            status: .badRequest, message: "Invalid type for '\(key)': expected an integer.", param: key, code: "invalid_type")
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        switch params[key] {
        case nil, .null: return nil
        case .bool(let b): return b
        case .text(let s):
            switch s.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        default: break
        }
        throw APIError(
            status: .badRequest, message: "Invalid type for '\(key)': expected a boolean.", param: key, code: "invalid_type")
    }

    var textFields: [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in params {
            switch value {
            case .text(let s), .string(let s): fields[key] = s
            case .int(let i): fields[key] = String(i)
            case .double(let d): fields[key] = String(d)
            case .bool(let b): fields[key] = b ? "true" : "false"
            case .null: fields[key] = ""
            case .other: fields[key] = "<object>"
            }
        }
        return fields
    }
}

enum StandInParser {
    static func parseJSON(_ body: ByteBuffer?) throws(APIError) -> ParsedCall {
        guard let body, body.readableBytes > 0 else {
            throw APIError(
                status: .badRequest,
                message:
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
            )
        }
        let data = Data(body.readableBytesView)
        let params: [String: ParamValue]
        do { params = try JSONDecoder().decode([String: ParamValue].self, from: data) } catch {
            throw APIError(
                status: .badRequest,
                message: "We could not parse the JSON body of your request. The OpenAI API expects a JSON object.")
        }
        return ParsedCall(params: params, fieldOrder: params.keys.sorted(), files: [], rawJSON: data)
    }

    static func parseMultipart(_ body: ByteBuffer?, contentType: HTTPMediaType?) throws(APIError) -> ParsedCall {
        guard let contentType, contentType.type == "multipart", contentType.subType == "form-data",
            let boundary = contentType.parameters["boundary"], !boundary.isEmpty
        else {
            throw APIError(
                status: .badRequest,
                message:
                    "Invalid Content-Type header (\(contentType?.serialize() ?? "none")), expected multipart/form-data with a boundary.")
        }
        guard let body else { throw APIError.missing("image") }
        final class Collector {
            var parts: [(headers: [(String, String)], body: ByteBuffer)] = []
            var headers: [(String, String)] = []
            var current = ByteBuffer()
        }
        let collector = Collector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.headers.append((name, value)) }
        parser.onBody = { chunk in collector.current.writeBuffer(&chunk) }
        parser.onPartComplete = {
            collector.parts.append((collector.headers, collector.current))
            collector.headers = []
            collector.current = ByteBuffer()
        }
        do { try parser.execute(body) } catch {
            throw APIError(status: .badRequest, message: "The multipart body could not be parsed: \(error).")
        }
        var call = ParsedCall()
        for part in collector.parts {
            let disposition = part.headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
            let attributes = parseDisposition(disposition)
            guard let name = attributes["name"] else { continue }
            let contentType = part.headers.first { $0.0.lowercased() == "content-type" }?.1
            if let filename = attributes["filename"] {
                call.files.append(
                    UploadedPart(name: name, filename: filename, contentType: contentType, data: Data(part.body.readableBytesView)))
            } else if ["image", "image[]", "mask", "markup"].contains(name), contentType != nil {
                // A file part without a filename.
                call.files.append(
                    UploadedPart(name: name, filename: nil, contentType: contentType, data: Data(part.body.readableBytesView)))
            } else {
                if call.params[name] == nil { call.fieldOrder.append(name) }
                call.params[name] = .text(String(buffer: part.body))
            }
        }
        return call
    }

    /// `form-data; name="image[]"; filename="a.png"` → ["name": "image[]", "filename": "a.png"].
    static func parseDisposition(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            result[pair[0].lowercased()] = value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return result
    }
}
