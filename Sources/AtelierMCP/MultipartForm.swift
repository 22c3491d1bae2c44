import Foundation

/// A `multipart/form-data` body, as `POST /v1/edit` and `/v1/mask/auto` take it.
struct MultipartForm {
    let boundary = "atelier-mcp-" + UUID().uuidString
    private(set) var body = Data()

    mutating func field(_ name: String, _ value: String) {
        part("Content-Disposition: form-data; name=\"\(name)\"", Data(value.utf8))
    }

    mutating func file(_ name: String, filename: String, _ data: Data) {
        part("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream", data)
    }

    func request(_ path: String) -> APIRequest {
        var closed = body
        closed.append(Data("--\(boundary)--\r\n".utf8))
        return APIRequest(method: .POST, path: path, contentType: "multipart/form-data; boundary=\(boundary)", body: closed)
    }

    private mutating func part(_ headers: String, _ content: Data) {
        body.append(Data("--\(boundary)\r\n\(headers)\r\n\r\n".utf8))
        body.append(content)
        body.append(Data("\r\n".utf8))
    }
}
