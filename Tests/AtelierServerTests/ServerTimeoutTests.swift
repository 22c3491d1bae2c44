import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Idle connections are closed and slow uploads refused (issue 10, item 3).
@Suite struct ServerTimeoutTests {
    @Test func anIdleConnectionIsClosedByTheServer() async throws {
        var access = AtelierConfig.Access.localTesting
        access.httpIdleTimeoutSeconds = 1
        try await withTestApp(try .testing(access: access)) { app in
            let port = try await app.startServer()
            // A client that connects and sends nothing (slowloris): the server closes it; recv then reads 0 bytes.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            // A guard against a hang only: a server that never closed makes recv give up with -1, and the test fails.
            var limit = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            let read = await Task.detached { recv(fd, &byte, 1, 0) }.value
            #expect(read == 0, "the server closed the idle connection (recv returned \(read), errno \(errno))")
            await app.server.shutdown()
        }
    }

    @Test func anUploadWhoseBodyIsLateIs408() async throws {
        var access = AtelierConfig.Access.localTesting
        access.requestBodyTimeoutSeconds = 0  // every chunk arrives after the deadline
        try await withTestApp(try .testing(access: access)) { app in
            var body = MultipartBody()
            body.field("prompt", "late")
            let late = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
            #expect(late.status == .requestTimeout)
            #expect(late.errorCode == "request_timeout")
            #expect(try UploadLimitsTests.leftovers(app).isEmpty)
        }
    }
}
