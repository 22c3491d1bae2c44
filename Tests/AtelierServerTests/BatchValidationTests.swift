import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Bad batches are refused before anything is created, naming the row and the field; validate creates nothing.
@Suite struct BatchValidationTests {
    private func refused(_ app: Application, _ body: [String: Any]) async throws -> (row: Int?, field: String?, code: String?, count: Int?)
    {
        let response = try await app.postJSON("v1/batches", body)
        #expect(response.status == .badRequest, "\(response.json)")
        #expect(try await app.batchAndJobCounts() == (0, 0), "nothing is created")
        let first = (response.json["errors"] as? [[String: Any]])?.first
        #expect(response.json[path: "error.row"] as? Int == first?["row"] as? Int)
        return (first?["row"] as? Int, first?["field"] as? String, first?["code"] as? String, response.json["error_count"] as? Int)
    }

    @Test func aCSVRowMissingAColumnIsRefusedNamingRowAndColumn() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let csv = "subject,style\nfox,ink\nowl,pencil\nheron\nwren,oil\n"
            let refusal = try await refused(app, ["prompt": "a {{subject}} in {{style}}", "csv": csv])
            #expect(refusal.row == 3)
            #expect(refusal.field == "style")
            #expect(refusal.code == "missing_column")
            #expect(refusal.count == 1)
        }
    }

    @Test func anUnknownVariableIsRefusedNamingThePrompt() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let refusal = try await refused(app, ["prompt": "a {{subject}} by {{artist}}", "rows": [["subject": "fox"]]])
            #expect(refusal.field == "prompt")
            #expect(refusal.code == "unknown_variable")
            let missing = try await refused(app, ["prompt": "a {{subject}}", "rows": [["subject": "fox"], ["style": "ink"]]])
            #expect(missing.row == 2)
            #expect(missing.field == "subject")
        }
    }

    @Test func moreThanAHundredThousandRowsAreRefusedAtTheFirstRowTooMany() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let refusal = try await refused(app, ["prompt": "a {{subject}}", "csv": batchCSV(rows: 100_001)])
            #expect(refusal.row == 100_001)
            #expect(refusal.field == "csv")
            #expect(refusal.code == "too_many_rows")
        }
    }

    @Test func anOptionTheModelDoesNotAllowIsRefusedNamingRowAndOption() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            var csv = "subject,quality\n"
            for index in 1...20 { csv += "fox \(index),\(index == 17 ? "ultra" : "high")\n" }
            let refusal = try await refused(app, ["prompt": "a {{subject}}", "csv": csv, "model": "gpt-image-1.5"])
            #expect(refusal.row == 17)
            #expect(refusal.field == "quality")
            // A sweep value the model refuses: every row names the option.
            let swept = try await refused(
                app,
                [
                    "prompt": "a fox", "model": "gpt-image-1.5", "sweep": ["size": ["1024x1024", "2048x2048"]],
                ])
            #expect(swept.row == 1)
            #expect(swept.field == "size")
            let unknown = try await app.postJSON("v1/batches", ["prompt": "a fox", "sweep": ["prompt": ["x"]]])
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorField == "sweep.prompt")
        }
    }

    @Test func invalidCSVQuotingIsRefused() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let refusal = try await refused(app, ["prompt": "a {{subject}}", "csv": "subject\nfox\n\"owl\n"])
            #expect(refusal.field == "csv")
            #expect(refusal.code == "invalid_csv")
        }
    }

    @Test func validateAnswersTheEstimateAndTheErrorsAndCreatesNothing() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let body: [String: Any] = [
                "prompt": "a {{subject}}", "csv": batchCSV(rows: 10), "model": "gpt-image-1.5", "quality": "low",
                "size": "1024x1024", "sweep": ["n": [1, 2]],
            ]
            let good = try await app.postJSON("v1/batches/validate", body)
            #expect(good.status == .ok)
            #expect(good.json["valid"] as? Bool == true)
            #expect(good.json["jobs"] as? Int == 20)
            #expect(good.json["rows"] as? Int == 10)
            let one = try #require(
                try await app.postJSON(
                    "v1/estimate",
                    [
                        "prompt": "a lighthouse 1", "model": "gpt-image-1.5", "quality": "low", "size": "1024x1024",
                    ]
                ).json["estimated_cost_usd"] as? Double)
            let total = try #require(good.json["estimated_cost_usd"] as? Double)
            #expect(total > 29 * one && total < 31 * one, "10 rows × (1 + 2 images)")
            let bad = try await app.postJSON("v1/batches/validate", ["prompt": "a {{subject}}", "csv": "subject,n\nfox,99\n"])
            #expect(bad.json["valid"] as? Bool == false)
            #expect(bad.json[path: "errors.0.row"] as? Int == 1)
            #expect(bad.json[path: "errors.0.field"] as? String == "n")
            #expect(try await app.batchAndJobCounts() == (0, 0))
            let created = try await app.postJSON("v1/batches", body)
            #expect(abs((created.json["estimated_cost_usd"] as? Double ?? 0) - total) < 1e-12, "create reserves what validate estimated")
        }
    }
}
