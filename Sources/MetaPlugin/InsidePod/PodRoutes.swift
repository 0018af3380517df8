import CNI
import System

/// A default route as the kernel holds it in the pod (main table).
struct DefaultRoute: Sendable, Hashable {
    var family: IPFamily
    /// The interface the route leaves by; "" when the kernel names none (a nexthop object).
    var ifName: String
    var gateway: String?
}

/// Why reading or changing a pod's default routes failed: the netns, the interface and the
/// gateway the call was about, the step, and the kernel's errno with its text.
struct PodRouteError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Step: Sendable, Hashable {
        case openNetns
        case startThread
        case enterNetns
        case openSocket
        /// Looking up `ifName`: ENODEV when there is no such interface in the netns.
        case findInterface
        case listInterfaces
        case listRoutes
        case deleteRoute(DefaultRoute)
        case addRoute
    }

    var netns: String
    var ifName: String?
    var gateway: String?
    var step: Step
    var errno: Errno
    /// The kernel's extended-ack text ("Nexthop has invalid gateway"), or our reason for a bad reply.
    var kernelMessage: String?

    var description: String {
        let call = if let gateway, let ifName {
            "setting the default route via \(gateway) dev \(ifName) in netns \(netns)"
        } else {
            "reading the default routes in netns \(netns)"
        }
        var text = "\(call): \(stepDescription): \(Self.errnoText(errno))"
        if let kernelMessage, !kernelMessage.isEmpty { text += ": \(kernelMessage)" }
        return text
    }

    private var stepDescription: String {
        switch step {
        case .openNetns: "cannot open the netns"
        case .startThread: "cannot start a thread to enter the netns"
        case .enterNetns: "cannot enter the netns (setns)"
        case .openSocket: "cannot open a netlink socket in the netns"
        case .findInterface: errno == .noSuchDevice ? "no interface \(ifName ?? "") in the netns" : "cannot look up interface \(ifName ?? "")"
        case .listInterfaces: "cannot list the interfaces"
        case .listRoutes: "cannot list the routes"
        case .deleteRoute(let route): "cannot delete the default route via \(route.gateway ?? "(none)") dev \(route.ifName)"
        case .addRoute: "cannot add the route"
        }
    }

    static func errnoText(_ code: Errno) -> String { "\(code) (errno \(code.rawValue))" }
}

/// Reads and changes the default routes inside a pod's network namespace over rtnetlink. The
/// work runs on a thread of its own that enters the netns (setns) and is joined before the call
/// returns, so no other thread of the process ever leaves the host netns.
enum PodRoutes {
    /// The default routes (0.0.0.0/0, ::/0) of the main table in the namespace at `netnsPath`,
    /// IPv4 first, one per hop of a multipath route.
    /// - Throws: `PodRouteError` when the netns cannot be entered or the kernel refuses a dump.
    static func defaultRoutes(netns netnsPath: String) throws(PodRouteError) -> [DefaultRoute] {
        let context = Context(netns: netnsPath, ifName: nil, gateway: nil)
        return try context.inNetns { () throws(PodRouteError) -> [DefaultRoute] in
            let socket = try context.socket()
            let names = try context.attempt(.listInterfaces) { () throws(NetlinkError) in try socket.interfaceNames() }
            var result: [DefaultRoute] = []
            for family in [IPFamily.v4, .v6] {
                let routes = try context.attempt(.listRoutes) { () throws(NetlinkError) in
                    try socket.mainDefaultRoutes(family: family.addressFamily)
                }
                for route in routes { result += try context.describe(route, family: family, names: names) }
            }
            return result
        }
    }

    /// The hardware address of every interface in the namespace at `netnsPath`, by name.
    /// - Throws: `PodRouteError` when the netns cannot be entered or the kernel refuses the dump.
    static func hardwareAddresses(netns netnsPath: String) throws(PodRouteError) -> [String: String] {
        let context = Context(netns: netnsPath, ifName: nil, gateway: nil)
        return try context.inNetns { () throws(PodRouteError) -> [String: String] in
            let socket = try context.socket()
            return try context.attempt(.listInterfaces) { () throws(NetlinkError) in try socket.hardwareAddresses() }
        }
    }

    /// Makes `gateway` via `ifName` the only default route of `gateway`'s family: deletes every
    /// other default route of that family (on any interface, eth0 included), then adds this one
    /// (main table, proto boot, scope universe, the kernel's default metric: 0 for IPv4, 1024 for
    /// IPv6). Routes of the other family are untouched. Idempotent: a default route already via
    /// `gateway` dev `ifName` is kept as it is. If the add fails, the deleted routes are put back
    /// (best effort) before throwing.
    /// - Throws: `PodRouteError` for a missing netns or interface, or a route the kernel refuses
    ///   (an IPv4 gateway outside the interface's subnets, say).
    static func setDefaultRoute(netns netnsPath: String, gateway: IPAddress, ifName: String) throws(PodRouteError) {
        let context = Context(netns: netnsPath, ifName: ifName, gateway: gateway.text)
        let family = gateway.family, gatewayBytes = gateway.bytes
        try context.inNetns { () throws(PodRouteError) in
            let socket = try context.socket()
            let index = try context.attempt(.findInterface) { () throws(NetlinkError) in try socket.interfaceIndex(named: ifName) }
            let routes = try context.attempt(.listRoutes) { () throws(NetlinkError) in
                try socket.mainDefaultRoutes(family: family.addressFamily)
            }
            let wanted = RouteHop(interfaceIndex: index, gateway: gatewayBytes)
            let kept = routes.first { $0.isOnly(wanted) }
            var deleted: [RouteMessage] = []
            for route in routes where route != kept {
                do throws(NetlinkError) {
                    try socket.request(NL.RTM_DELROUTE, payload: route.deletion.payload, operation: "RTM_DELROUTE")
                    deleted.append(route)
                } catch {
                    if error.errno == .noSuchProcess { continue }  // gone already
                    let names = (try? socket.interfaceNames()) ?? [:]
                    let described = (try? context.describe(route, family: family, names: names))?.first
                        ?? DefaultRoute(family: family, ifName: "", gateway: nil)
                    restore(deleted, on: socket)
                    throw context.error(.deleteRoute(described), error)
                }
            }
            if kept != nil { return }
            var route = RouteMessage(family: family.addressFamily)
            route.attributes = [
                NetlinkAttribute(type: NL.RTA_TABLE, u32: UInt32(NL.RT_TABLE_MAIN)),
                NetlinkAttribute(type: NL.RTA_GATEWAY, value: gatewayBytes),
                NetlinkAttribute(type: NL.RTA_OIF, u32: UInt32(bitPattern: index)),
            ]
            do throws(NetlinkError) {
                try socket.request(NL.RTM_NEWROUTE, flags: NL.NLM_F_CREATE | NL.NLM_F_EXCL,
                                   payload: route.payload, operation: "RTM_NEWROUTE")
            } catch {
                restore(deleted, on: socket)
                throw context.error(.addRoute, error)
            }
        }
    }

    /// Puts back routes we deleted; failures are ignored (the caller reports the first error).
    private static func restore(_ routes: [RouteMessage], on socket: NetlinkSocket) {
        for route in routes {
            try? socket.request(NL.RTM_NEWROUTE, flags: NL.NLM_F_CREATE | NL.NLM_F_EXCL,
                                payload: route.restoration.payload, operation: "RTM_NEWROUTE (restore)")
        }
    }
}

extension RouteMessage {
    /// Whether the route has exactly one hop, `hop`, given directly (no nexthop object, no
    /// multipath).
    fileprivate func isOnly(_ hop: RouteHop) -> Bool {
        guard attribute(NL.RTA_NH_ID) == nil, attribute(NL.RTA_MULTIPATH) == nil else { return false }
        return hops == [hop]
    }

    /// An RTM_DELROUTE for exactly this route: its header and the attributes the kernel matches
    /// on (table, metric, interface, gateway, nexthops).
    fileprivate var deletion: RouteMessage {
        keeping([NL.RTA_TABLE, NL.RTA_PRIORITY, NL.RTA_OIF, NL.RTA_GATEWAY, NL.RTA_VIA, NL.RTA_MULTIPATH, NL.RTA_NH_ID])
    }

    /// An RTM_NEWROUTE that recreates this route as dumped: also its source address, metrics
    /// (MTU...), IPv6 router preference and encapsulation.
    fileprivate var restoration: RouteMessage {
        let prefsrc: UInt16 = 7, metrics: UInt16 = 8, pref: UInt16 = 20, encapType: UInt16 = 21, encap: UInt16 = 22
        var route = keeping([NL.RTA_TABLE, NL.RTA_PRIORITY, NL.RTA_OIF, NL.RTA_GATEWAY, NL.RTA_VIA, NL.RTA_MULTIPATH,
                             NL.RTA_NH_ID, prefsrc, metrics, pref, encapType, encap])
        route.flags &= 4  // RTNH_F_ONLINK; the rest are state the kernel reports
        return route
    }

    private func keeping(_ types: [UInt16]) -> RouteMessage {
        var route = self
        route.flags = 0
        route.attributes = attributes.filter { types.contains($0.type) }
        return route
    }
}

extension IPFamily {
    private var socketFamily: SocketAddress.Family { self == .v4 ? .v4 : .v6 }

    /// AF_INET or AF_INET6, as a route message carries it.
    var addressFamily: UInt8 { socketFamily.netlinkFamily }

    /// The text form of 4 or 16 address bytes (as inet_ntop writes it); nil for any other length.
    func text(of bytes: [UInt8]) -> String? { SocketAddress.text(socketFamily, bytes) }
}

/// What one PodRoutes call is about, for its errors, and the thread that enters the netns.
private struct Context: Sendable {
    var netns: String
    var ifName: String?
    var gateway: String?

    func error(_ step: PodRouteError.Step, _ cause: NetlinkError) -> PodRouteError {
        PodRouteError(netns: netns, ifName: ifName, gateway: gateway, step: step, errno: cause.errno, kernelMessage: cause.message)
    }

    func attempt<T>(_ step: PodRouteError.Step, _ body: () throws(NetlinkError) -> T) throws(PodRouteError) -> T {
        do { return try body() } catch { throw self.error(step, error) }
    }

    func socket() throws(PodRouteError) -> NetlinkSocket {
        try attempt(.openSocket) { () throws(NetlinkError) in try NetlinkSocket() }
    }

    /// `route` as one DefaultRoute per hop.
    func describe(_ route: RouteMessage, family: IPFamily, names: [Int32: String]) throws(PodRouteError) -> [DefaultRoute] {
        guard let hops = route.hops else {
            throw error(.listRoutes, NetlinkError(operation: "", errno: .protocolError, message: "malformed RTA_MULTIPATH"))
        }
        return hops.map { hop in
            let ifName = hop.interfaceIndex.map { names[$0] ?? "if\($0)" } ?? ""
            return DefaultRoute(family: family, ifName: ifName, gateway: hop.gateway.flatMap { family.text(of: $0) })
        }
    }

    /// Runs `body` on a new thread that has entered the netns at `netns`, and joins it. The
    /// calling thread never changes namespace; the new one ends with the call.
    func inNetns<T: Sendable>(_ body: @escaping @Sendable () throws(PodRouteError) -> T) throws(PodRouteError) -> T {
        let namespace: FileDescriptor
        do { namespace = try NetworkNamespace.open(netns) } catch { throw self.error(.openNetns, NetlinkError(operation: "open", errno: error.errno)) }
        defer { namespace.close() }
        let outcome = NetnsOutcome<T>()
        let context = self
        let thread: Thread
        do {
            thread = try Thread.dedicated {
                do throws(SystemError) { try NetworkNamespace.enter(namespace) } catch {
                    outcome.result = .failure(context.error(.enterNetns, NetlinkError(operation: "setns", errno: error.errno)))
                    return
                }
                do throws(PodRouteError) { outcome.result = .success(try body()) } catch { outcome.result = .failure(error) }
            }
        } catch {
            throw self.error(.startThread, NetlinkError(operation: "pthread_create", errno: error.errno))
        }
        thread.join()
        guard let result = outcome.result else {
            throw self.error(.startThread, NetlinkError(operation: "pthread_join", errno: .protocolError, message: "the thread produced no result"))
        }
        return try result.get()
    }
}

/// The result a netns thread leaves for the caller; written by the thread, read after the join.
private final class NetnsOutcome<T: Sendable>: @unchecked Sendable {
    var result: Result<T, PodRouteError>?
}
