import CNI
import MetaPlugin
import Testing
import TestSupport

private let podNS = Namespace.make("pod-ns")

/// An element in the pod's namespace unless told otherwise.
private func element(
    _ name: String, _ namespace: String = podNS.text, interface: String? = nil, ips: [String] = [], mac: String? = nil,
    defaultRoute: [IPAddress]? = nil, portMappings: JSONValue? = nil, bandwidth: JSONValue? = nil, cniArgs: JSONObject? = nil,
    guid: String? = nil, deviceID: String? = nil, at position: Int
) -> NetworkSelectionElement {
    NetworkSelectionElement(
        // A test's own literal: a name the rule refuses is a mistake in the test.
        name: .make(name), namespace: .make(namespace), interfaceRequest: interface.map { .make($0) }, ips: ips, mac: mac, defaultRoute: defaultRoute,
        portMappings: portMappings, bandwidth: bandwidth, cniArgs: cniArgs, infinibandGUID: guid, deviceID: deviceID,
        position: position)
}

/// An annotation that parses, and what it must parse to.
struct AcceptCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var expected: [NetworkSelectionElement]
    var testDescription: String { name }
}

/// An annotation that is refused, and what the error must say.
struct RejectCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var position: Int?
    var element: String?
    var reasonContains: [String]
    var testDescription: String { name }
}

private let longLabel = String(repeating: "a", count: 63)
private let longName = String(repeating: "n", count: 253)

@Suite("Network selection annotation")
struct NetworkSelectionTests {
    static let accepted: [AcceptCase] = [
        // Comma form.
        .init(name: "empty annotation", text: "", expected: []),
        .init(name: "name", text: "macvlan", expected: [element("macvlan", at: 0)]),
        .init(name: "namespace/name", text: "blue/macvlan", expected: [element("macvlan", "blue", at: 0)]),
        .init(name: "name@interface", text: "macvlan@eth1", expected: [element("macvlan", interface: "eth1", at: 0)]),
        .init(name: "namespace/name@interface", text: "blue/macvlan@eth1",
              expected: [element("macvlan", "blue", interface: "eth1", at: 0)]),
        .init(name: "several, with spaces around items", text: "  a , blue/b@net5 ,c\t",
              expected: [element("a", at: 0), element("b", "blue", interface: "net5", at: 1), element("c", at: 2)]),
        .init(name: "spaces around every part (Multus trims them)", text: "blue / macvlan @ eth1",
              expected: [element("macvlan", "blue", interface: "eth1", at: 0)]),
        .init(name: "newlines and tabs", text: "\n\ta,\n\tb\n", expected: [element("a", at: 0), element("b", at: 1)]),
        .init(name: "Unicode whitespace is trimmed as Go's TrimSpace does", text: "\u{00A0}a\u{3000},\u{2003}b",
              expected: [element("a", at: 0), element("b", at: 1)]),
        .init(name: "empty namespace means the pod's (Multus)", text: "/macvlan", expected: [element("macvlan", at: 0)]),
        .init(name: "empty interface means none (Multus)", text: "macvlan@", expected: [element("macvlan", at: 0)]),
        .init(name: "the same network twice", text: "a,a", expected: [element("a", at: 0), element("a", at: 1)]),
        .init(name: "dotted name (a DNS-1123 subdomain)", text: "blue/net.v2", expected: [element("net.v2", "blue", at: 0)]),
        .init(name: "63-character namespace, 253-character name", text: "\(longLabel)/\(longName)",
              expected: [element(longName, longLabel, at: 0)]),
        .init(name: "digits only", text: "0/1@2", expected: [element("1", "0", interface: "2", at: 0)]),
        .init(name: "\"null\" is a name in the comma form", text: "null", expected: [element("null", at: 0)]),
        .init(name: "15-byte interface", text: "a@abcdefghijklmno", expected: [element("a", interface: "abcdefghijklmno", at: 0)]),

        // JSON form.
        .init(name: "empty list", text: "[]", expected: []),
        .init(name: "list with whitespace around", text: " \n[ {\"name\":\"a\"} ]\n", expected: [element("a", at: 0)]),
        .init(name: "name and namespace", text: #"[{"name":"a","namespace":"blue"},{"name":"b"}]"#,
              expected: [element("a", "blue", at: 0), element("b", at: 1)]),
        .init(name: "every field", text: #"""
            [{"name":"n","namespace":"ns","interface":"net7","ips":["10.0.0.5/24","fd00::5"],"mac":"02:00:5e:10:00:01",
              "default-route":["10.0.0.1","fd00::1"],"portMappings":[{"hostPort":80,"containerPort":8080,"protocol":"tcp"}],
              "bandwidth":{"ingressRate":1,"egressBurst":2},"cni-args":{"k":"v","n":[1]},
              "infiniband-guid":"0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001","deviceID":"0000:03:00.1"}]
            """#,
              expected: [element(
                "n", "ns", interface: "net7", ips: ["10.0.0.5/24", "fd00::5"], mac: "02:00:5e:10:00:01",
                defaultRoute: ["10.0.0.1", "fd00::1"], portMappings: [["hostPort": 80, "containerPort": 8080, "protocol": "tcp"]],
                bandwidth: ["ingressRate": 1, "egressBurst": 2], cniArgs: ["k": "v", "n": [1]],
                guid: "0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001", deviceID: "0000:03:00.1", at: 0)]),
        .init(name: "legacy interfaceRequest", text: #"[{"name":"a","interfaceRequest":"eth1"}]"#,
              expected: [element("a", interface: "eth1", at: 0)]),
        .init(name: "interface wins over interfaceRequest", text: #"[{"name":"a","interfaceRequest":"eth1","interface":"eth2"}]"#,
              expected: [element("a", interface: "eth2", at: 0)]),
        .init(name: "empty interface falls back to interfaceRequest", text: #"[{"name":"a","interface":"","interfaceRequest":"eth1"}]"#,
              expected: [element("a", interface: "eth1", at: 0)]),
        .init(name: "empty strings are absent", text: #"[{"name":"a","namespace":"","mac":"","infiniband-guid":"","deviceID":""}]"#,
              expected: [element("a", at: 0)]),
        .init(name: "nulls are absent", text: #"""
            [{"name":"a","namespace":null,"interface":null,"ips":null,"mac":null,"default-route":null,
              "portMappings":null,"bandwidth":null,"cni-args":null,"infiniband-guid":null,"deviceID":null}]
            """#, expected: [element("a", at: 0)]),
        .init(name: "an empty default-route is kept (it turns on gateway filtering)", text: #"[{"name":"a","default-route":[]}]"#,
              expected: [element("a", defaultRoute: [], at: 0)]),
        .init(name: "empty cni-args and portMappings are kept verbatim", text: #"[{"name":"a","cni-args":{},"portMappings":[]}]"#,
              expected: [element("a", portMappings: [], cniArgs: [:], at: 0)]),
        .init(name: "unknown keys are ignored", text: #"[{"name":"a","foo":{"bar":[1,{"x":null}]},"ips2":5,"interfaces":3}]"#,
              expected: [element("a", at: 0)]),
        .init(name: "keys match case-insensitively, as in encoding/json",
              text: #"[{"Name":"a","NAMESPACE":"blue","Interface":"eth1","IPS":["10.0.0.1/24"],"MAC":"00:00:5e:00:53:01","DeviceId":"d"}]"#,
              expected: [element("a", "blue", interface: "eth1", ips: ["10.0.0.1/24"], mac: "00:00:5e:00:53:01", deviceID: "d", at: 0)]),
        .init(name: "Go's Unicode key folding (long s, Kelvin sign)", text: #"[{"name":"a","nameſpace":"blue","ipſ":["10.0.0.1"]}]"#,
              expected: [element("a", "blue", ips: ["10.0.0.1"], at: 0)]),
        .init(name: "the last matching key wins; null leaves a string alone",
              text: #"[{"name":"a","Name":"b","NAME":null,"cni-args":{"x":1},"CNI-ARGS":null}]"#,
              expected: [element("b", at: 0)]),
        .init(name: "plain IPs and CIDRs in ips (Multus accepts both)", text: #"[{"name":"a","ips":["10.1.1.1","fd00::1/64","::ffff:10.1.1.1/96","10.1.1.1/032"]}]"#,
              expected: [element("a", ips: ["10.1.1.1", "fd00::1/64", "::ffff:10.1.1.1/96", "10.1.1.1/032"], at: 0)]),
        .init(name: "escaped strings", text: #"[{"name":"\u0061\u002eb","interface":"e\u0074h1"}]"#,
              expected: [element("a.b", interface: "eth1", at: 0)]),
        .init(name: "numbers inside cni-args keep their spelling", text: #"[{"name":"a","cni-args":{"n":1.50e+3}}]"#,
              expected: [element("a", cniArgs: ["n": .number("1.50e+3")], at: 0)]),
        .init(name: "port mapping keys match case-insensitively", text: #"[{"name":"a","portMappings":[{"HostPort":1,"containerport":null}]}]"#,
              expected: [element("a", portMappings: [["HostPort": 1, "containerport": nil]], at: 0)]),
        .init(name: "the same interface name in different case is not a duplicate", text: "a@eth1,b@ETH1",
              expected: [element("a", interface: "eth1", at: 0), element("b", interface: "ETH1", at: 1)]),
    ]

    @Test(arguments: accepted)
    func accepts(_ c: AcceptCase) throws {
        let parsed = try NetworkSelection.parse(c.text, podNamespace: podNS)
        #expect(parsed == c.expected)
    }

    static let rejected: [RejectCase] = [
        // Comma form.
        .init(name: "doubled comma", text: "a,,b", position: 1, element: nil, reasonContains: ["empty item"]),
        .init(name: "trailing comma", text: "a,b,", position: 2, element: nil, reasonContains: ["empty item"]),
        .init(name: "leading comma", text: ",a", position: 0, element: nil, reasonContains: ["empty item"]),
        .init(name: "whitespace only", text: " \t", position: 0, element: nil, reasonContains: ["empty item"]),
        .init(name: "two slashes", text: "a,x/y/z", position: 1, element: "x/y/z", reasonContains: ["more than one '/'"]),
        .init(name: "two ats", text: "x@y@z", position: 0, element: "x@y@z", reasonContains: ["more than one '@'"]),
        .init(name: "namespace only", text: "blue/", position: 0, element: "blue/", reasonContains: ["no network name"]),
        .init(name: "interface only", text: "@eth1", position: 0, element: "@eth1", reasonContains: ["no network name"]),
        .init(name: "namespace and interface only", text: "blue/ @eth1", position: 0, element: "blue/ @eth1", reasonContains: ["no network name"]),
        .init(name: "upper case name", text: "Macvlan", position: 0, element: "Macvlan", reasonContains: [#"network name "Macvlan""#, "lower case"]),
        .init(name: "underscore in name", text: "my_net", position: 0, element: "my_net", reasonContains: [#""my_net""#]),
        .init(name: "name starting with '-'", text: "-net", position: 0, element: "-net", reasonContains: ["start and end"]),
        .init(name: "name ending with '-'", text: "net-", position: 0, element: "net-", reasonContains: ["start and end"]),
        .init(name: "name with an empty label", text: "a..b", position: 0, element: "a..b", reasonContains: [#"network name "a..b""#]),
        .init(name: "name ending with a dot", text: "a.", position: 0, element: "a.", reasonContains: [#"network name "a.""#]),
        .init(name: "space inside the name", text: "mac vlan", position: 0, element: "mac vlan", reasonContains: [#""mac vlan""#]),
        .init(name: "upper case namespace", text: "Blue/net", position: 0, element: "Blue/net", reasonContains: [#"namespace "Blue""#]),
        .init(name: "dotted namespace", text: "a.b/net", position: 0, element: "a.b/net", reasonContains: [#"namespace "a.b""#]),
        .init(name: "64-character namespace", text: "\(longLabel)x/net", position: 0, element: "\(longLabel)x/net",
              reasonContains: ["longer than 63"]),
        .init(name: "254-character name", text: "\(longName)n", position: 0, element: "\(longName)n", reasonContains: ["longer than 253"]),
        .init(name: "a 300-character element is echoed clipped to 256 bytes", text: String(repeating: "n", count: 300), position: 0,
              element: String(repeating: "n", count: 256) + "…", reasonContains: ["longer than 253"]),
        .init(name: "space inside the interface", text: "x,blue/macvlan@eth1 x", position: 1, element: "blue/macvlan@eth1 x",
              reasonContains: [#"interface name "eth1 x" contains '/', ':' or whitespace"#]),
        .init(name: "16-byte interface", text: "a@abcdefghijklmnop", position: 0, element: "a@abcdefghijklmnop",
              reasonContains: [#"interface name "abcdefghijklmnop" is longer than 15 bytes"#]),
        .init(name: "colon in interface", text: "a@eth0:1", position: 0, element: "a@eth0:1", reasonContains: ["interface name", "':'"]),
        .init(name: "interface \"..\"", text: "a@..", position: 0, element: "a@..", reasonContains: ["interface name", #"".."#]),
        .init(name: "slash in interface splits as a namespace first (as Multus)", text: "a@eth/1", position: 0, element: "a@eth/1",
              reasonContains: [#"namespace "a@eth""#]),
        .init(name: "duplicate interface, comma form", text: "a@net1, blue/b@net1", position: 1, element: "blue/b@net1",
              reasonContains: [#"interface "net1" is also requested by element 0 ("pod-ns/a@net1")"#]),
        .init(name: "a combining mark does not hide a comma (Go splits bytes)", text: "a,\u{301}b", position: 1, element: "\u{301}b",
              reasonContains: ["network name"]),
        .init(name: "a combining mark does not hide a slash", text: "a/b/\u{301}c", position: 0, element: "a/b/\u{301}c",
              reasonContains: ["more than one '/'"]),
        .init(name: "NUL in a name", text: "a\u{0}b", position: 0, element: "a\u{0}b", reasonContains: [#""a\u0000b""#]),
        .init(name: "replacement character (from non-UTF-8 bytes)", text: String(decoding: [0x61, 0xFF, 0x62] as [UInt8], as: UTF8.self),
              position: 0, element: "a\u{FFFD}b", reasonContains: ["network name"]),

        // JSON form: the document.
        .init(name: "not JSON", text: "[{", position: nil, element: nil, reasonContains: ["invalid JSON"]),
        .init(name: "a quote makes it JSON (Multus)", text: #"a@"eth1""#, position: nil, element: nil,
              reasonContains: ["invalid JSON", "read as JSON because it contains"]),
        .init(name: "a single object", text: #"{"name":"a"}"#, position: nil, element: nil,
              reasonContains: ["must be a JSON list of network selection objects, found an object"]),
        .init(name: "a JSON string", text: #""a""#, position: nil, element: nil, reasonContains: ["found a string"]),
        .init(name: "trailing data", text: #"[{"name":"a"}] x"#, position: nil, element: nil, reasonContains: ["after the document"]),
        .init(name: "invalid escape", text: #"[{"name":"\ud800"}]"#, position: nil, element: nil, reasonContains: ["surrogate"]),

        // JSON form: one element.
        .init(name: "null element", text: #"[{"name":"a"},null]"#, position: 1, element: nil, reasonContains: ["must be an object, found null"]),
        .init(name: "string element", text: #"["a"]"#, position: 0, element: nil, reasonContains: ["must be an object, found a string"]),
        .init(name: "list element", text: #"[[]]"#, position: 0, element: nil, reasonContains: ["found an array"]),
        .init(name: "no name", text: #"[{"namespace":"a"}]"#, position: 0, element: nil, reasonContains: [#""name" is missing or empty"#]),
        .init(name: "empty name", text: #"[{"name":""}]"#, position: 0, element: nil, reasonContains: [#""name" is missing or empty"#]),
        .init(name: "numeric name", text: #"[{"name":5}]"#, position: 0, element: nil, reasonContains: ["name must be a string, found a number"]),
        .init(name: "a later key of the wrong kind (Go reports it too)", text: #"[{"name":"a","NAME":true}]"#, position: 0, element: nil,
              reasonContains: ["must be a string, found a boolean"]),
        .init(name: "invalid name", text: #"[{"name":"Net_A"}]"#, position: 0, element: "Net_A", reasonContains: [#"network name "Net_A""#]),
        .init(name: "name with whitespace around", text: #"[{"name":" a"}]"#, position: 0, element: " a", reasonContains: ["network name"]),
        .init(name: "invalid namespace", text: #"[{"name":"a","namespace":"kube_system"}]"#, position: 0, element: "a",
              reasonContains: [#"namespace "kube_system""#]),
        .init(name: "numeric namespace", text: #"[{"name":"a","namespace":1}]"#, position: 0, element: "a", reasonContains: ["namespace must be a string"]),
        .init(name: "invalid interface", text: #"[{"name":"a","interface":"eth 1"}]"#, position: 0, element: "a",
              reasonContains: [#"interface name "eth 1" contains"#]),
        .init(name: "invalid legacy interfaceRequest", text: #"[{"name":"a","interfaceRequest":"a/b"}]"#, position: 0, element: "a",
              reasonContains: [#"interface name "a/b""#]),
        .init(name: "numeric interfaceRequest next to a good interface", text: #"[{"name":"a","interface":"eth1","interfaceRequest":1}]"#,
              position: 0, element: "a", reasonContains: ["interfaceRequest must be a string"]),
        .init(name: "long interface", text: #"[{"name":"a","interface":"0123456789abcdef"}]"#, position: 0, element: "a",
              reasonContains: ["longer than 15 bytes"]),
        // "eth0\0" would reach the plugin as CNI_IFNAME=eth0: a secondary acting on the main interface.
        .init(name: "NUL after an interface name", text: #"[{"name":"a","interface":"eth0\u0000"}]"#, position: 0, element: "a",
              reasonContains: [#"interface name "eth0\u0000" contains a NUL byte"#]),
        .init(name: "NUL in the legacy interfaceRequest", text: #"[{"name":"a","interfaceRequest":"net1\u0000x"}]"#, position: 0, element: "a",
              reasonContains: ["interface name", "NUL"]),
        .init(name: "ips not a list", text: #"[{"name":"a","ips":"10.0.0.1"}]"#, position: 0, element: "a",
              reasonContains: ["ips must be an array, found a string"]),
        .init(name: "ips entry not a string", text: #"[{"name":"a","ips":[1]}]"#, position: 0, element: "a",
              reasonContains: ["ips[0] must be a string, found a number"]),
        .init(name: "ips entry null", text: #"[{"name":"a","ips":[null]}]"#, position: 0, element: "a", reasonContains: ["ips[0] must be a string, found null"]),
        .init(name: "prefix too long", text: #"[{"name":"a","ips":["10.0.0.1","10.0.0.2/33"]}]"#, position: 0, element: "a",
              reasonContains: [#"ips[1] "10.0.0.2/33" is not an IP address or CIDR"#]),
        .init(name: "empty prefix", text: #"[{"name":"a","ips":["10.0.0.2/"]}]"#, position: 0, element: "a", reasonContains: ["ips[0]"]),
        .init(name: "two prefixes", text: #"[{"name":"a","ips":["10.0.0.2/24/1"]}]"#, position: 0, element: "a", reasonContains: ["ips[0]"]),
        .init(name: "leading zeros in IPv4 (Go refuses them)", text: #"[{"name":"a","ips":["010.0.0.2"]}]"#, position: 0, element: "a",
              reasonContains: ["ips[0]"]),
        .init(name: "IPv6 zone", text: #"[{"name":"a","ips":["fe80::1%eth0"]}]"#, position: 0, element: "a", reasonContains: ["ips[0]"]),
        .init(name: "empty ip", text: #"[{"name":"a","ips":[""]}]"#, position: 0, element: "a", reasonContains: [#"ips[0] """#]),
        .init(name: "bad mac", text: #"[{"name":"a","mac":"00:11:22:33:44"}]"#, position: 0, element: "a",
              reasonContains: [#"mac "00:11:22:33:44" is not a MAC address"#]),
        .init(name: "numeric mac", text: #"[{"name":"a","mac":1}]"#, position: 0, element: "a", reasonContains: ["mac must be a string"]),
        .init(name: "bad infiniband-guid", text: #"[{"name":"a","infiniband-guid":"guid"}]"#, position: 0, element: "a",
              reasonContains: [#"infiniband-guid "guid" is not a valid GUID"#]),
        .init(name: "default-route with a prefix", text: #"[{"name":"a","default-route":["10.0.0.1/24"]}]"#, position: 0, element: "a",
              reasonContains: [#"default-route[0] "10.0.0.1/24" is not an IP address"#]),
        .init(name: "empty default-route entry", text: #"[{"name":"a","default-route":[""]}]"#, position: 0, element: "a",
              reasonContains: ["default-route[0]"]),
        .init(name: "null default-route entry", text: #"[{"name":"a","default-route":[null]}]"#, position: 0, element: "a",
              reasonContains: ["default-route[0] must be a string, found null"]),
        .init(name: "default-route not a list", text: #"[{"name":"a","default-route":"10.0.0.1"}]"#, position: 0, element: "a",
              reasonContains: ["default-route must be an array"]),
        .init(name: "cni-args a list", text: #"[{"name":"a","cni-args":[]}]"#, position: 0, element: "a",
              reasonContains: ["cni-args must be an object, found an array"]),
        .init(name: "cni-args a string", text: #"[{"name":"a","cni-args":"x=y"}]"#, position: 0, element: "a", reasonContains: ["cni-args must be an object"]),
        .init(name: "portMappings an object", text: #"[{"name":"a","portMappings":{}}]"#, position: 0, element: "a",
              reasonContains: ["portMappings must be an array, found an object"]),
        .init(name: "null port mapping", text: #"[{"name":"a","portMappings":[null]}]"#, position: 0, element: "a",
              reasonContains: ["portMappings[0] must be an object, found null"]),
        .init(name: "port as a string", text: #"[{"name":"a","portMappings":[{"hostPort":1},{"hostPort":"80"}]}]"#, position: 0, element: "a",
              reasonContains: ["portMappings[1].hostPort must be an integer, found a string"]),
        .init(name: "fractional port", text: #"[{"name":"a","portMappings":[{"containerPort":80.5}]}]"#, position: 0, element: "a",
              reasonContains: ["portMappings[0].containerPort must be an integer"]),
        .init(name: "port with an exponent (Go's int refuses it)", text: #"[{"name":"a","portMappings":[{"containerPort":8e1}]}]"#, position: 0,
              element: "a", reasonContains: ["portMappings[0].containerPort must be an integer"]),
        .init(name: "numeric protocol", text: #"[{"name":"a","portMappings":[{"protocol":6}]}]"#, position: 0, element: "a",
              reasonContains: ["portMappings[0].protocol must be a string"]),
        .init(name: "bandwidth a list", text: #"[{"name":"a","bandwidth":[]}]"#, position: 0, element: "a", reasonContains: ["bandwidth must be an object"]),
        .init(name: "bandwidth rate as a string", text: #"[{"name":"a","bandwidth":{"ingressRate":"1M"}}]"#, position: 0, element: "a",
              reasonContains: ["bandwidth.ingressRate must be an integer, found a string"]),
        .init(name: "bandwidth rate out of range", text: #"[{"name":"a","bandwidth":{"egressBurst":99999999999999999999}}]"#, position: 0,
              element: "a", reasonContains: ["bandwidth.egressBurst must be an integer"]),
        .init(name: "numeric deviceID", text: #"[{"name":"a","deviceID":1}]"#, position: 0, element: "a", reasonContains: ["deviceID must be a string"]),
        .init(name: "error in a later element", text: #"[{"name":"a"},{"name":"b","mac":"x"}]"#, position: 1, element: "b",
              reasonContains: [#"mac "x""#]),
        .init(name: "duplicate interface, JSON form", text: #"[{"name":"a","interface":"eth1"},{"name":"b","namespace":"blue","interface":"eth1"}]"#,
              position: 1, element: "blue/b@eth1", reasonContains: [#"interface "eth1" is also requested by element 0 ("pod-ns/a@eth1")"#]),
        .init(name: "duplicate interface through the legacy key", text: #"[{"name":"a","interfaceRequest":"eth1"},{"name":"c"},{"name":"b","interface":"eth1"}]"#,
              position: 2, element: "pod-ns/b@eth1", reasonContains: ["element 0"]),
    ]

    @Test(arguments: rejected)
    func rejects(_ c: RejectCase) {
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse(c.text, podNamespace: podNS) }
        guard let error else { return }
        #expect(error.position == c.position, "\(error)")
        #expect(error.element == c.element, "\(error)")
        for part in c.reasonContains { #expect(error.reason.contains(part), "\(error.reason)") }
    }

    // MARK: - Messages

    @Test func theMessageNamesTheElementByPositionAndText() {
        let error = #expect(throws: NetworkSelectionError.self) {
            try NetworkSelection.parse("a, b, blue/macvlan@eth1 x", podNamespace: podNS)
        }
        #expect(error?.description == #"element 2 ("blue/macvlan@eth1 x"): interface name "eth1 x" contains '/', ':' or whitespace"#)
    }

    @Test func wholeAnnotationErrorsAreTheReasonAlone() {
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse(#"{"name":"a"}"#, podNamespace: podNS) }
        #expect(error?.description == "must be a JSON list of network selection objects, found an object")
    }

    @Test func duplicateInterfaceMessageNamesBothElements() {
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse("a@net1,b@net1", podNamespace: .make("ns")) }
        #expect(error?.description == #"element 1 ("ns/b@net1"): interface "net1" is also requested by element 0 ("ns/a@net1")"#)
    }

    @Test func controlCharactersAreEscapedInMessages() {
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse("a\nb@x", podNamespace: podNS) }
        #expect(error?.description.contains(#""a\nb@x""#) == true, "\(String(describing: error))")
    }

    // MARK: - MAC addresses, as Go's net.ParseMAC reads them

    static let goodMACs = [
        "00:00:5e:00:53:01", "02:00:5e:10:00:00:00:01",
        "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
        "00-00-5e-00-53-01", "02-00-5e-10-00-00-00-01",
        "00-00-00-00-fe-80-00-00-00-00-00-00-02-00-5e-10-00-00-00-01",
        "0000.5e00.5301", "0200.5e10.0000.0001", "0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001",
        "AB:CD:EF:ab:cd:ef",
    ]

    static let badMACs = [
        "01.02.03.04.05.06", "01:02:03:04:05:06:", "x1:02:03:04:05:06", "01002:03:04:05:06", "01:02003:04:05:06",
        "01:02:03:04:05:06:07", "01:02-03:04:05:06", "0123.4567.89AB.", "0123:4567.89AB", "1:2:3:4:5:6", "01:02:03:04:05:6g",
        "01:02:03:04:05:06 ", " 01:02:03:04:05:06", "0123.4567.89a", "01:02:03:04:05:06:07:08:09:0a",
        "01:02:03:04:05:0\u{FF16}", "０1:02:03:04:05:06",
    ]

    @Test(arguments: goodMACs)
    func acceptsWhatParseMACAccepts(_ mac: String) throws {
        let parsed = try NetworkSelection.parse(#"[{"name":"a","mac":"\#(mac)","infiniband-guid":"\#(mac)"}]"#, podNamespace: podNS)
        #expect(parsed.first?.mac == mac)
        #expect(parsed.first?.infinibandGUID == mac)
    }

    @Test(arguments: badMACs)
    func refusesWhatParseMACRefuses(_ mac: String) {
        let error = #expect(throws: NetworkSelectionError.self) {
            try NetworkSelection.parse(#"[{"name":"a","mac":"\#(mac)"}]"#, podNamespace: podNS)
        }
        #expect(error?.reason.hasPrefix("mac ") == true, "\(String(describing: error))")
    }

    // MARK: - Fixtures

    static let fixtures: [String: [NetworkSelectionElement]] = [
        "sriov-static-ip.json": [
            element("sriov-net-a", "infra", interface: "net1", ips: ["10.56.217.171/24", "fd00:10:56::171/64"],
                    mac: "CA:FE:C0:FF:EE:00", deviceID: "0000:03:02.1", at: 0),
            element("sriov-net-b", interface: "net2", ips: ["10.56.218.171"], at: 1),
        ],
        "default-route.json": [
            element("macvlan-conf", defaultRoute: ["192.168.2.1"], at: 0),
            element("v6-net", "network-v6", ips: ["fd00:2::10/64"], defaultRoute: ["fd00:2::1"], at: 1),
            element("no-default", defaultRoute: [], at: 2),
        ],
        "every-field.json": [
            element("bridge.storage", "storage-system", interface: "stor0", ips: ["192.168.10.5/24"], mac: "02-00-5e-10-00-01",
                    defaultRoute: ["192.168.10.1"],
                    portMappings: [
                        ["hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "10.0.0.1"],
                        ["hostPort": 8443, "containerPort": 443],
                    ],
                    bandwidth: ["ingressRate": 2048, "ingressBurst": 1600, "egressRate": 4096, "egressBurst": 1600],
                    cniArgs: ["vlan": 100, "trust": "on", "nested": ["list": [1, .number("2.5e3"), nil, true]]],
                    guid: "c2:11:22:33:44:55:66:77", deviceID: "0000:af:00.2", at: 0),
            element("ib-legacy", interface: "ib1", at: 1),
        ],
        "comma-form.txt": [
            element("macvlan-conf", "default", interface: "eth1", at: 0),
            element("sriov-net-a", at: 1),
            element("ipvlan-l3", "infra", at: 2),
        ],
    ]

    @Test(arguments: fixtures.keys.sorted())
    func parsesFixture(_ file: String) throws {
        let expected = Self.fixtures[file]
        let text = String(decoding: try readFile(testdata("annotations/\(file)")), as: UTF8.self)
        #expect(try NetworkSelection.parse(text, podNamespace: podNS) == expected, "\(file)")
    }

    @Test func duplicateInterfaceFixture() throws {
        let text = String(decoding: try readFile(testdata("annotations/duplicate-interface.json")), as: UTF8.self)
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse(text, podNamespace: podNS) }
        #expect(error == NetworkSelectionError(
            position: 1, element: "team-b/macvlan-b@eth1",
            reason: #"interface "eth1" is also requested by element 0 ("pod-ns/macvlan-a@eth1")"#))
    }

    @Test func portMappingsBandwidthAndCNIArgsAreKeptVerbatim() throws {
        let text = #"[{"name":"a","portMappings":[{"containerPort":80,"hostPort":8080,"x":1e2}],"bandwidth":{"z":0,"ingressRate":10},"cni-args":{"b":1.0,"a":[]}}]"#
        let parsed = try #require(try NetworkSelection.parse(text, podNamespace: podNS).first)
        #expect(parsed.portMappings?.serialized() == #"[{"containerPort":80,"hostPort":8080,"x":1e2}]"#)
        #expect(parsed.bandwidth?.serialized() == #"{"z":0,"ingressRate":10}"#)
        #expect(parsed.cniArgs.map { JSONValue.object($0).serialized() } == #"{"b":1.0,"a":[]}"#)
    }

    // MARK: - Hostile input: never crash, keep messages short

    static let hostile: [String: String] = [
        "deep list nesting": String(repeating: "[", count: 100_000),
        "deep object nesting": String(repeating: #"{"a":"#, count: 100_000),
        "huge comma-form name": String(repeating: "a", count: 1 << 20) + "_",
        "huge comma-form interface": "a@" + String(repeating: "e", count: 1 << 20),
        "huge JSON name": #"[{"name":""# + String(repeating: "A", count: 1 << 20) + #""}]"#,
        "huge JSON mac": #"[{"name":"a","mac":""# + String(repeating: "0", count: 1 << 20) + #""}]"#,
        "huge JSON namespace": #"[{"name":"a","namespace":""# + String(repeating: "b", count: 1 << 20) + #""}]"#,
        "only separators": String(repeating: "/@", count: 50_000),
        "non-UTF-8 bytes": String(decoding: (0...255).map { UInt8($0) }, as: UTF8.self),
        "invalid UTF-8 inside JSON": String(decoding: Array(#"[{"name":""#.utf8) + [0xC3, 0x28] + Array(#""}]"#.utf8), as: UTF8.self),
        "lone quote": "\"",
        "lone brace": "}",
        "NUL bytes": "\u{0}\u{0},\u{0}",
        "huge key in broken JSON": #"[{""# + String(repeating: "k", count: 1 << 20) + #""}]"#,
    ]

    @Test(arguments: hostile.keys.sorted())
    func hostileInputIsRefusedWithAShortMessage(_ name: String) throws {
        let text = try #require(Self.hostile[name])
        let error = #expect(throws: NetworkSelectionError.self) { try NetworkSelection.parse(text, podNamespace: podNS) }
        let description = try #require(error?.description)
        // The element and the value at fault, each echoed at most 256 bytes long (`Echo`).
        #expect(description.utf8.count < 700, "\(description.prefix(800))")
    }

    /// Deep nesting that is closed, inside cni-args, is within the depth limit: it parses.
    @Test func deepButClosedNestingInsideCNIArgsParses() throws {
        let nested = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let parsed = try NetworkSelection.parse(#"[{"name":"a","cni-args":{"x":"# + nested + "}}]", podNamespace: podNS)
        #expect(parsed.map(\.name.text) == ["a"])
        #expect(parsed.first?.cniArgs?["x"] == (try JSONValue.parse(nested)))
    }

    @Test func manyElementsParse() throws {
        let names = (0..<20_000).map { "net-\($0)@if\($0)" }
        let parsed = try NetworkSelection.parse(names.joined(separator: ","), podNamespace: podNS)
        #expect(parsed.count == 20_000)
        #expect(parsed.last == element("net-19999", interface: "if19999", at: 19_999))
    }
}
