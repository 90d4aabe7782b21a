import Testing
@testable import StunWire

@Suite("Credentials file")
struct CredentialStoreTests {
    @Test func longTermShortTermCommentsAndEscapes() throws {
        let store = try CredentialStore(parsing: """
            # TURN
            alice:example.org:secret
              bob:example.org:pa\\:ss\\\\word

            1700000000\\:carol:turn.example:s3cret\r
            8hhY:asd88fgpdd777uzjYhagZg
            """)
        #expect(store.longTermCount == 3)
        #expect(store.shortTermCount == 1)
        #expect(store.longTerm.map(\.user) == ["alice", "bob", "1700000000:carol"])
        #expect(store.longTerm[2].realm == "turn.example")
        // The escaped password is what the key is made of.
        #expect(store.longTerm[1].md5Key == StunKey.longTerm(user: "bob", realm: "example.org", password: "pa:ss\\word"))
    }

    @Test func badLinesNameTheLineNotTheSecret() {
        for text in ["alice\n", "a:b:c:secretword\n", ":realm:secretword\n", "x\\y:secretword\n", "user:secretword\\"] {
            do {
                _ = try CredentialStore(parsing: text)
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                let message = "\(error)"
                #expect(message.hasPrefix("credentials line 1:"))
                #expect(!message.contains("secretword"))
            }
        }
        #expect(throws: CredentialStore.FileError.self) { try CredentialStore(contentsOfFile: "/nonexistent/creds") }
    }

    @Test func keysNeverPrint() {
        let key = StunKey.longTerm(user: "alice", realm: "example.org", password: "secret")
        #expect("\(key)" == "<redacted>")
        #expect(String(reflecting: key) == "<redacted>")
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("bytes"))
        #expect(Mirror(reflecting: key).children.isEmpty)
    }

    @Test func knownKeyDerivation() {
        // RFC 5769 2.4's long-term key is MD5("<user>:example.org:TheMatrIX").
        let store = CredentialStore()
        store.addLongTerm(user: RFC5769.longTermUser, realm: "example.org", password: "TheMatrIX")
        let verifier = IntegrityVerifier(credentials: store)
        #expect(parseVerifying(RFC5769.longTermRequest, verifier)?.integrity == .valid)
    }

    @Test func transactionTableIsBounded() throws {
        let store = CredentialStore()
        store.addShortTerm(username: "evtj", password: RFC5769.shortTermPassword)
        let verifier = IntegrityVerifier(credentials: store, transactionCapacity: 4)
        for i in 0..<10 {
            var request = RFC5769.sampleRequest
            request[19] = UInt8(i)   // a different transaction id each time (integrity then fails; keys are still remembered)
            _ = parseVerifying(request, verifier)
        }
        #expect(verifier.evictedTransactions == 6)
    }
}
