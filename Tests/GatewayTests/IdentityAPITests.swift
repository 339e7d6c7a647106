import Foundation
import GatewayService
import PostgresNIO
import Testing
import TestSupport

/// The staff's users and teams through the API, and the `identity.*` events their changes commit with.
@Suite("Users and teams", .timeLimit(.minutes(2)))
struct IdentityAPITests {
    let api = APIClient()

    func email() -> String { "\(TestEnvironment.uniqueName("staff"))@Example.com" }

    @Test("a user is created with a one-time link; the e-mail is unique whatever its case; bad fields are named")
    func create() async throws {
        let address = email()
        let created = try await api.post("/api/v1/users", ["name": "Grace Hopper", "email": address, "role": "support", "time_zone": "Europe/Vienna"])
        #expect(created.status == 201)
        #expect(created.json["password_set"] as? Bool == false)
        let link = try #require(created.json["password_link"] as? [String: Any])
        #expect((link["path"] as? String)?.hasPrefix("/password/") == true)
        #expect(created.json["password_hash"] == nil && created.json["password"] == nil)
        let again = try await api.post("/api/v1/users", ["name": "Another", "email": address.uppercased(), "role": "sales"])
        #expect(again.status == 409)
        let bad = try await api.post("/api/v1/users", ["name": "", "email": "not an address", "role": "sales", "time_zone": "Mars/Olympus"])
        #expect(bad.status == 422)
        let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["name", "email", "time_zone"])
        let seller = try #require(try await api.post("/api/v1/api-keys", ["name": "seller", "role": "sales"]).json["key"] as? String)
        #expect(try await APIClient(key: seller).post("/api/v1/users", ["name": "X", "email": email(), "role": "admin"]).status == 403)
        #expect(try await APIClient(key: seller).get("/api/v1/users").status == 200, "anyone reads the users, to pick an owner")
    }

    @Test("users made at once with one e-mail: one is made, the others are a 409, never a 500")
    func concurrentEmail() async throws {
        let address = email()
        let api = api
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                group.addTask { try await api.post("/api/v1/users", ["name": "Twin \(index)", "email": address, "role": "sales"]).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.sorted() == [201, 409, 409, 409, 409, 409])
    }

    @Test("a team's lead is made a member; joining is a new version of the user and the team, each with its event from the producer identity")
    func teams() async throws {
        let user = try await api.post("/api/v1/users", ["name": "Team Lead", "email": email(), "role": "sales"])
        let userId = try #require(user.json["id"] as? String)
        let team = try await api.post("/api/v1/teams", ["name": TestEnvironment.uniqueName("Field sales"), "lead_id": userId])
        #expect(team.status == 201)
        #expect(team.json["member_ids"] as? [String] == [userId])
        let teamId = try #require(team.json["id"] as? String)
        let member = try await api.get("/api/v1/users/\(userId)")
        #expect(member.json["team_ids"] as? [String] == [teamId])
        #expect(member.json["version"] as? Int == 2)
        let stale = try await api.send("PATCH", "/api/v1/teams/\(teamId)", json: ["name": "Renamed"], headers: ["If-Match": "\"7\""])
        #expect(stale.status == 412)
        let left = try await api.send("PATCH", "/api/v1/users/\(userId)", json: ["team_ids": []], headers: ["If-Match": "\"2\""])
        #expect(left.status == 200)
        let leaderless = try await api.get("/api/v1/teams/\(teamId)").json
        #expect(leaderless["member_ids"] as? [String] == [])
        #expect(leaderless["lead_id"] is NSNull, "a lead who left the team leads it no more")
        try await TestEnvironment.withClient { client in
            let rows = try await client.query(
                "SELECT type, payload::jsonb->>'producer' FROM gateway.outbox WHERE aggregate_id IN (\(UUID(uuidString: userId)!), \(UUID(uuidString: teamId)!)) ORDER BY seq",
                logger: TestEnvironment.logger
            )
            var events: [String] = []
            for try await (type, producer) in rows.decode((String, String).self) {
                #expect(producer == "identity")
                events.append(type)
            }
            #expect(events == [
                "identity.user.created", "identity.user.updated", "identity.team.created", "identity.team.updated", "identity.user.updated",
            ])
        }
    }

    @Test("publish-users gives a service's copy of the staff a user it never learnt of")
    func publishUsers() async throws {
        let user = try await api.newStaffUser(name: "Known Before")
        let id = try #require(user["id"] as? String)
        let encoded = try #require(user["email"] as? String).replacingOccurrences(of: "@", with: "%40")
        try await TestEnvironment.withClient { client in
            // As a service that starts keeping a copy after the user was made.
            try await client.query(PostgresQuery(unsafeSQL: "DELETE FROM sales.staff_users WHERE id = '\(id)'"), logger: TestEnvironment.logger)
            #expect(try await api.get("/api/v1/deals?owner=\(encoded)").status == 422, "sales no longer knows the user")
            #expect(try await GatewayService.publishUsers(client: client, logger: TestEnvironment.logger) >= 1)
        }
        let known = try await TestEnvironment.eventually(timeout: .seconds(20), every: .milliseconds(50)) {
            try await api.get("/api/v1/deals?owner=\(encoded)").status == 200
        }
        #expect(known, "sales knows the user again from the published document")
    }

    @Test("deactivating and reactivating are events of their own; a patch may not set active")
    func activeState() async throws {
        let user = try await api.post("/api/v1/users", ["name": "Leaving", "email": email(), "role": "marketing"])
        let id = try #require(user.json["id"] as? String)
        let patched = try await api.send("PATCH", "/api/v1/users/\(id)", json: ["active": false], headers: ["If-Match": "\"1\""])
        #expect(patched.status == 422)
        let off = try await api.post("/api/v1/users/\(id)/deactivate", [:])
        #expect(off.json["active"] as? Bool == false)
        let on = try await api.post("/api/v1/users/\(id)/reactivate", [:])
        #expect(on.json["active"] as? Bool == true)
        #expect(on.json["version"] as? Int == 3)
    }
}
