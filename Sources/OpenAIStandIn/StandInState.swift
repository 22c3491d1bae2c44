import Foundation

/// One uploaded file as recorded for inspection.
struct RecordedFile: Sendable {
    var name: String
    var filename: String?
    var contentType: String?
    var byteCount: Int
    var sha256: String
    var format: String?
    var width: Int?
    var height: Int?
    var hasAlpha: Bool?
    /// nil once evicted by the byte budget.
    var data: Data?

    var json: [String: Any] {
        [
            "name": name, "filename": filename as Any? ?? NSNull(), "content_type": contentType as Any? ?? NSNull(),
            "bytes": byteCount, "sha256": sha256, "format": format as Any? ?? NSNull(),
            "width": width as Any? ?? NSNull(), "height": height as Any? ?? NSNull(),
            "has_alpha": hasAlpha as Any? ?? NSNull(),
        ]
    }
}

/// One API request as recorded for inspection.
struct RecordedRequest: Sendable {
    var index: Int
    var method: String
    var path: String
    var contentType: String?
    var headers: [String: String]
    var authorizationPresent: Bool
    var json: Data?
    var fields: [String: String]
    var files: [RecordedFile]

    var jsonObject: [String: Any] {
        let parsed: Any = json.flatMap { try? JSONSerialization.jsonObject(with: $0, options: [.fragmentsAllowed]) } ?? NSNull()
        return [
            "index": index, "method": method, "path": path, "content_type": contentType as Any? ?? NSNull(),
            "headers": headers, "authorization_present": authorizationPresent, "json": parsed, "fields": fields,
            "files": files.map(\.json),
        ]
    }
}

enum Endpoint: String, Sendable {
    case generations, edits
}

/// All mutable stand-in state: recorded requests, queued faults, counters.
actor StandInState {
    private var requests: [RecordedRequest] = []
    private var nextIndex = 0
    private var faults: [(fault: StandInFault, match: StandInFaultRequest.Match?)] = []
    private var calls = 0
    private var generations = 0
    private var edits = 0
    private var storedFileBytes = 0
    /// (request index, file index) of files still holding bytes, oldest first.
    private var storedFiles: [(Int, Int)] = []
    private let maxFileBytes: Int
    private let maxRequests: Int

    init(maxFileBytes: Int, maxRequests: Int) {
        self.maxFileBytes = maxFileBytes
        self.maxRequests = maxRequests
    }

    /// Records a request and returns its index.
    func record(_ request: RecordedRequest, endpoint: Endpoint?) -> Int {
        var request = request
        request.index = nextIndex
        nextIndex += 1
        calls += 1
        switch endpoint {
        case .generations: generations += 1
        case .edits: edits += 1
        case nil: break
        }
        for (fileIndex, file) in request.files.enumerated() {
            guard let data = file.data else { continue }
            if data.count > maxFileBytes {
                request.files[fileIndex].data = nil
                continue
            }
            storedFileBytes += data.count
            storedFiles.append((request.index, fileIndex))
        }
        requests.append(request)
        evict()
        return request.index
    }

    private func position(of index: Int) -> Int? {
        // Indices are increasing; entries may have been dropped at the front.
        guard let first = requests.first?.index else { return nil }
        let position = index - first
        guard position >= 0, position < requests.count, requests[position].index == index else { return nil }
        return position
    }

    private func evict() {
        while storedFileBytes > maxFileBytes, !storedFiles.isEmpty {
            let (requestIndex, fileIndex) = storedFiles.removeFirst()
            if let position = position(of: requestIndex), let data = requests[position].files[fileIndex].data {
                storedFileBytes -= data.count
                requests[position].files[fileIndex].data = nil
            }
        }
        while requests.count > maxRequests {
            let dropped = requests.removeFirst()
            for file in dropped.files { storedFileBytes -= file.data?.count ?? 0 }
            storedFiles.removeAll { $0.0 == dropped.index }
        }
    }

    func enqueue(_ request: StandInFaultRequest) {
        for fault in request.faults { faults.append((fault, request.match)) }
    }

    /// The next fault that applies to `endpoint`, removed from the queue.
    func takeFault(for endpoint: Endpoint) -> StandInFault? {
        guard let position = faults.firstIndex(where: { $0.match == nil || $0.match?.rawValue == endpoint.rawValue }) else {
            return nil
        }
        return faults.remove(at: position).fault
    }

    func listJSON() -> Data {
        let array = requests.map(\.jsonObject)
        return (try? JSONSerialization.data(withJSONObject: array, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
    }

    func file(request index: Int, file fileIndex: Int) -> (data: Data, contentType: String?)? {
        guard let position = position(of: index), fileIndex >= 0, fileIndex < requests[position].files.count,
            let data = requests[position].files[fileIndex].data
        else { return nil }
        return (data, requests[position].files[fileIndex].contentType)
    }

    func clear() {
        requests.removeAll()
        faults.removeAll()
        storedFiles.removeAll()
        storedFileBytes = 0
    }

    func stats() -> [String: Int] {
        ["calls": calls, "generations": generations, "edits": edits]
    }
}
