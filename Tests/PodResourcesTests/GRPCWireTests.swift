@testable import PodResources
import Testing

@Suite struct GRPCWireTests {
    @Test func framePrefixesTheLengthBigEndian() {
        #expect(GRPCWire.frame([]) == [0, 0, 0, 0, 0])
        #expect(GRPCWire.frame(Array(repeating: 7, count: 0x0102)) == [0, 0, 0, 1, 2] + Array(repeating: 7, count: 0x0102))
    }

    @Test func unframeReturnsTheOneMessage() throws {
        #expect(try GRPCWire.unframe([0, 0, 0, 0, 2, 9, 8], limit: 2) == [9, 8])
        #expect(try GRPCWire.unframe([0, 0, 0, 0, 0], limit: 0) == [])
    }

    @Test(arguments: [
        ([0, 0, 0], "no complete gRPC message prefix"),
        ([1, 0, 0, 0, 0], "compressed"),
        ([0, 0, 0, 0, 3, 1], "announces 3"),
        ([0, 0, 0, 0, 1, 1, 2], "announces 1"),
        ([0, 0, 0, 0, 9] + Array(repeating: 0, count: 9), "exceeds the limit of 8"),
    ] as [([UInt8], String)])
    func unframeRejects(body: [UInt8], problem: String) {
        #expect {
            _ = try GRPCWire.unframe(body, limit: 8)
        } throws: { error in
            (error as? GRPCWireError)?.problem.contains(problem) == true
        }
    }

    @Test func statusComesFromTheTrailers() {
        #expect(GRPCWire.status([:]) == nil)
        #expect(GRPCWire.status(["grpc-status": "0"]) == GRPCStatus(code: .ok, message: ""))
        #expect(GRPCWire.status(["grpc-status": "12", "grpc-message": "Method not found!"])
            == GRPCStatus(code: .unimplemented, message: "Method not found!"))
        #expect(GRPCWire.status(["grpc-status": "99"])?.code == .unknown)
        #expect(GRPCWire.status(["grpc-status": "x"])?.code == .unknown)
    }

    @Test(arguments: [("a%20b", "a b"), ("%C3%BC", "ü"), ("100%", "100%"), ("%zz%4", "%zz%4"), ("plain", "plain")])
    func messagesArePercentDecoded(encoded: String, decoded: String) {
        #expect(GRPCWire.percentDecoded(encoded) == decoded)
    }

    @Test func codeNamesAreGRPCs() {
        #expect(GRPCStatusCode.allCases.map(\.name) == [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
            "DATA_LOSS", "UNAUTHENTICATED",
        ])
    }

    @Test func timeoutHeaderIsInMilliseconds() {
        #expect(GRPCWire.timeoutHeader(.seconds(2)) == "2000m")
        #expect(GRPCWire.timeoutHeader(.microseconds(10)) == "1m")
        #expect(GRPCWire.timeoutHeader(.seconds(1_000_000)) == "99999999m")
    }
}
