@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing

/// The first account becomes the admin: exactly one, however many sign up at the same instant.
@Suite struct FirstAdminTests {
    @Test func ofSimultaneousFirstSignUpsExactlyOneBecomesAdmin() async throws {
        try await withAccountsApp { app in
            let accounts = UserAccounts(app: app)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        _ = try await accounts.create(email: "u\(index)@example.com", password: "correct horse battery", consent: true)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await UserRecord.query(on: app.db).count() == 8)
            #expect(try await UserRecord.query(on: app.db).filter(\.$role == "admin").count() == 1)
            let later = try await accounts.create(email: "late@example.com", password: "correct horse battery", consent: true)
            #expect(!later.isAdmin)
        }
    }

    @Test func onceEveryAccountIsDeletedTheNextSignUpIsAdminAgain() async throws {
        try await withAccountsApp { app in
            let accounts = UserAccounts(app: app)
            let first = try await accounts.create(email: "first@example.com", password: "correct horse battery", consent: true)
            let second = try await accounts.create(email: "second@example.com", password: "correct horse battery", consent: true)
            #expect(first.isAdmin && !second.isAdmin)
            try await AccountDeleter(app: app).delete(first)
            let third = try await accounts.create(email: "third@example.com", password: "correct horse battery", consent: true)
            #expect(!third.isAdmin, "accounts remain: an admin makes the next admin")
            try await AccountDeleter(app: app).delete(second)
            try await AccountDeleter(app: app).delete(third)
            let fresh = try await accounts.create(email: "fresh@example.com", password: "correct horse battery", consent: true)
            #expect(fresh.isAdmin)
        }
    }
}
