import Vapor

extension Request {
    /// `?wait=N` of a job creation (nil when absent or not a number). Most creations have no query at all, and
    /// then Vapor's query decoder (a parse of the whole query per lookup) is not run.
    var waitQuery: Double? {
        url.query == nil ? nil : query[Double.self, at: "wait"]
    }
}
