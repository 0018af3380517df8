#!/usr/bin/env python3
"""A local Kubernetes API server for swift-multus's integration tests.

It speaks the real REST protocol over HTTPS (HTTP/1.1, keep-alive) for the few resources the
Multus thin plugin touches: pods (get, list, and the status subresource: get/patch/put),
network-attachment-definitions (get, list), events (create, get, list), and DRA's
resource.k8s.io/v1 resourceclaims (get, list, and the status subresource: get, and server-side
apply with managedFields and KEP-4817's per-driver authorization of status.devices) and
cluster-scoped resourceslices (get, list with field selectors); SelfSubjectAccessReviews, /version,
health and discovery. Reads come from storage or from a watch cache that can be held behind it, by
resourceVersion, as kube-apiserver's cacher chooses; service account tokens may be JWTs that
expire. Every request is authorized by RBAC rules, by default exactly those of
Multus v4.3.1's own ClusterRole, so a client that needs a verb a real cluster does not grant fails
here too. Errors are Status objects worded as
kube-apiserver words them, so a client's error handling is tested against the real thing.

    python3 apiserver.py --dir DIR [--objects DIR] [--set TEXT=REPLACEMENT ...]

Generates a CA, a server certificate (127.0.0.1, ::1, localhost, kubernetes.test) and a client
certificate (CN=system:multus-client, O=swift-multus) into DIR with the openssl CLI, listens on
127.0.0.1:<ephemeral>, and prints one JSON line:
    {"port": N, "ca": ..., "clientCert": ..., "clientKey": ...}

Control channel: one JSON command per stdin line, one JSON reply per stdout line
({"ok": true, "result": ...} or {"ok": false, "error": "..."}). See README.md beside this file.
The server exits the moment stdin reaches EOF, so a crashed test never leaves it running.

Python standard library only.
"""

import argparse
import base64
import copy
import ipaddress
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fieldsets  # noqa: E402

NAD_GROUP = "k8s.cni.cncf.io"
DRA_GROUP = "resource.k8s.io"

# kind -> (apiVersion, resource, group)
KINDS = {
    "Pod": ("v1", "pods", ""),
    "NetworkAttachmentDefinition": (NAD_GROUP + "/v1", "network-attachment-definitions", NAD_GROUP),
    "Event": ("v1", "events", ""),
    "ResourceClaim": (DRA_GROUP + "/v1", "resourceclaims", DRA_GROUP),
    "ResourceSlice": (DRA_GROUP + "/v1", "resourceslices", DRA_GROUP),
}

# Kinds without a namespace: stored under namespace "", authorized only cluster-wide.
CLUSTER_SCOPED = {"ResourceSlice"}

# The field selectors each kind's list accepts besides metadata.name (and metadata.namespace
# for namespaced kinds), with how to read the field: kube-apiserver's field label conversions.
FIELD_LABELS = {
    "Pod": {"spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName", ""),
            "status.phase": lambda o: (o.get("status") or {}).get("phase", "")},
    "ResourceSlice": {"spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName", ""),
                      "spec.driver": lambda o: (o.get("spec") or {}).get("driver", "")},
}

# ---------------------------------------------------------------------------------------------
# RBAC: a rule list per user, evaluated as the RBAC authorizer does (any matching rule allows)

# Multus v4.3.1's ClusterRole (deployments/multus-daemonset.yml), rule for rule: no `patch` on
# pods; DRA's claims and slices get/list.
MULTUS_CLUSTER_ROLE = [
    {"apiGroups": [NAD_GROUP], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list", "update", "watch"]},
    {"apiGroups": [DRA_GROUP], "resources": ["resourceclaims", "resourceclaims/status", "resourceslices"], "verbs": ["get", "list"]},
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
]

# The ClusterRole of Multus v4.3.0 and before: no resource.k8s.io at all.
MULTUS_4_3_0_CLUSTER_ROLE = [rule for rule in MULTUS_CLUSTER_ROLE if rule["apiGroups"] != [DRA_GROUP]]

# deploy/rbac.yml: what swift-multus itself needs, and nothing more.
SWIFT_MULTUS_ROLE = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]},
    {"apiGroups": [NAD_GROUP], "resources": ["network-attachment-definitions"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": [DRA_GROUP], "resources": ["resourceclaims"], "verbs": ["get"]},
    {"apiGroups": [DRA_GROUP], "resources": ["resourceslices"], "verbs": ["list"]},
]

ROLES = {
    "multus": MULTUS_CLUSTER_ROLE,
    "multus-4.3.0": MULTUS_4_3_0_CLUSTER_ROLE,
    "swift-multus": SWIFT_MULTUS_ROLE,
    "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    "none": [],
}


def rules_for(role):
    """A role name from ROLES, or a rule list given inline."""
    if role is None:
        return MULTUS_CLUSTER_ROLE
    if isinstance(role, str):
        if role not in ROLES:
            raise ValueError("unknown role %r (one of %s, or a list of rules)" % (role, ", ".join(sorted(ROLES))))
        return ROLES[role]
    if not isinstance(role, list) or not all(isinstance(r, dict) for r in role):
        raise ValueError("a role is a name or a list of {apiGroups, resources, verbs[, resourceNames]}")
    return role


def rule_allows(rule, verb, group, resource, subresource, name):
    full = resource + "/" + subresource if subresource else resource
    verbs = rule.get("verbs", [])
    if "*" not in verbs and verb not in verbs:
        return False
    groups = rule.get("apiGroups", [])
    if "*" not in groups and group not in groups:
        return False
    resources = rule.get("resources", [])
    if not ("*" in resources or full in resources or (subresource and "*/" + subresource in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or (name and name in names)


def authorized(rules, verb, group, resource, subresource, name):
    return any(rule_allows(rule, verb, group, resource, subresource, name) for rule in rules)


def url_allowed(rules, verb, path):
    """A non-resource request (/version, /apis, ...), as RBAC matches nonResourceURLs: exactly,
    or by a prefix ending in `*`."""
    for rule in rules:
        verbs = rule.get("verbs", [])
        if "*" not in verbs and verb not in verbs:
            continue
        for pattern in rule.get("nonResourceURLs", []):
            if pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
                return True
    return False


# The bootstrap ClusterRoleBindings every kube-apiserver has, to the groups every user is in:
# what any authenticated user may do whatever its own role (ask what it may do, read discovery
# and /version), and what anyone may read without credentials. (binding, group, rules)
PUBLIC_INFO = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
AUTHENTICATED_BINDINGS = [
    ("system:basic-user", "system:authenticated", [
        {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
    ("system:discovery", "system:authenticated", [
        {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"] + PUBLIC_INFO, "verbs": ["get"]}]),
    ("system:public-info-viewer", "system:authenticated", [{"nonResourceURLs": PUBLIC_INFO, "verbs": ["get"]}]),
]
ANONYMOUS_BINDINGS = [("system:public-info-viewer", "system:unauthenticated", [{"nonResourceURLs": PUBLIC_INFO, "verbs": ["get"]}])]

# ---------------------------------------------------------------------------------------------
# Certificates


CONFIG = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"
KEYS = {
    "ec": ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"),
    # kubeadm's default; the client's certificate checks must work for both kinds of chain.
    "rsa": ("-newkey", "rsa:2048", "-nodes"),
}
LEAF = ("basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature",
        "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid")


def openssl_req(directory, name, subject, serial, extensions, key_type, signed_by_ca=True):
    """`openssl req -x509` making <name>.key (EC P-256 or RSA 2048) and <name>.crt (SHA-256) in
    one process. A private config keeps the system openssl.cnf's default extensions out."""
    command = ["openssl", "req", "-x509", "-config", "openssl.cnf", *KEYS[key_type], "-keyout", name + ".key",
               "-out", name + ".crt", "-subj", subject, "-days", "2", "-sha256", "-set_serial", str(serial)]
    if signed_by_ca:
        command += ["-CA", "ca.crt", "-CAkey", "ca.key"]
    for extension in extensions:
        command += ["-addext", extension]
    return subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process):
    _, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(process.args), errors.strip()))


SERVER_SUBJECT = "/CN=kubernetes.test"
SERVER_SANS = "IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes.test"


def generate_certificates(directory, key_type="ec", server_subject=SERVER_SUBJECT, server_sans=SERVER_SANS):
    """A CA, then the server and client certificates it signs (made in parallel): three openssl
    processes in all, so a server starts in a few hundred milliseconds. The server certificate's
    subject and subjectAltName can be chosen (empty SANs: none at all), for hostname checks."""
    with open(os.path.join(directory, "openssl.cnf"), "w") as f:
        f.write(CONFIG)
    finish(openssl_req(directory, "ca", "/CN=swift-multus-test-ca", 1, (
        "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign",
        "subjectKeyIdentifier=hash"), key_type, signed_by_ca=False))
    sans = ("subjectAltName=" + server_sans,) if server_sans else ()
    server = openssl_req(directory, "server", server_subject, 2, LEAF + ("extendedKeyUsage=serverAuth",) + sans, key_type)
    client = openssl_req(directory, "client", "/O=swift-multus/CN=system:multus-client", 3, LEAF + (
        "extendedKeyUsage=clientAuth",), key_type)
    finish(server)
    finish(client)
    for key in ("ca.key", "server.key", "client.key"):
        os.chmod(os.path.join(directory, key), 0o600)


# ---------------------------------------------------------------------------------------------
# Status objects, worded as k8s.io/apimachinery/pkg/api/errors words them


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return code, body


def resource_details(resource, group, name):
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = resource
    return details


def qualified(resource, group):
    return resource + "." + group if group else resource


def unauthorized():
    return status(401, "Unauthorized", "Unauthorized")


def forbidden(user, verb, resource, subresource, group, namespace, name):
    full = resource + "/" + subresource if subresource else resource
    subject = '%s "%s"' % (qualified(resource, group), name) if name else qualified(resource, group)
    scope = 'in the namespace "%s"' % namespace if namespace else "at the cluster scope"
    message = '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        subject, user, verb, full, group, scope)
    return status(403, "Forbidden", message, resource_details(resource, group, name))


def not_found(resource, group, name):
    return status(404, "NotFound", '%s "%s" not found' % (qualified(resource, group), name),
                  resource_details(resource, group, name))


def already_exists(resource, group, name):
    return status(409, "AlreadyExists", '%s "%s" already exists' % (qualified(resource, group), name),
                  resource_details(resource, group, name))


def conflict(resource, group, name):
    message = ('Operation cannot be fulfilled on %s "%s": the object has been modified; '
               "please apply your changes to the latest version and try again") % (qualified(resource, group), name)
    return status(409, "Conflict", message, resource_details(resource, group, name))


def no_route():
    return status(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed():
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def bad_request(message):
    return status(400, "BadRequest", message)


def invalid(message):
    return status(422, "Invalid", message)


UNSUPPORTED_PATCH = status(
    415, "UnsupportedMediaType",
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json")

PATCH_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json")

FAULT_STATUS = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    502: ("", "the server responded with the status code 502 but did not return more information"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"),
}


def injected(code, message=None):
    reason, default = FAULT_STATUS.get(code, ("", "injected fault"))
    details = {"retryAfterSeconds": 0} if code == 429 else {}
    return status(code, reason, message or default, details)


# ---------------------------------------------------------------------------------------------
# Patches


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strip_directives(patch):
    """Strategic merge patch directives ($setElementOrder/..., $retainKeys, $patch) are dropped:
    for maps (annotations, labels) a strategic patch means what a merge patch means."""
    if isinstance(patch, dict):
        return {k: strip_directives(v) for k, v in patch.items() if not k.startswith("$")}
    return patch


class PatchError(Exception):
    pass


def pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError('invalid JSON pointer "%s"' % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def walk(document, tokens):
    """The container holding the last token, and that token (list indices as ints)."""
    node = document
    for token in tokens[:-1]:
        node = child(node, token)
    return node, tokens[-1]


def child(node, token):
    if isinstance(node, dict):
        if token not in node:
            raise PatchError("doc is missing path: missing key %s" % token)
        return node[token]
    if isinstance(node, list):
        index = list_index(node, token, allow_end=False)
        return node[index]
    raise PatchError("doc is missing path: %s is not a container" % token)


def list_index(node, token, allow_end):
    if allow_end and token == "-":
        return len(node)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError("invalid array index %s" % token)
    index = int(token)
    if index > len(node) or (index == len(node) and not allow_end):
        raise PatchError("array index out of bounds: %d" % index)
    return index


def get_at(document, path):
    tokens = pointer(path)
    node = document
    for token in tokens:
        node = child(node, token)
    return node


def remove_at(document, path):
    tokens = pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent, last = walk(document, tokens)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("unable to remove nonexistent key: %s: missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(list_index(parent, last, allow_end=False))
    raise PatchError("cannot remove from a scalar")


def add_at(document, path, value, replace=False):
    tokens = pointer(path)
    if not tokens:
        return value
    parent, last = walk(document, tokens)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError("replace operation does not apply: doc is missing key: %s" % path)
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[list_index(parent, last, allow_end=False)] = value
        else:
            parent.insert(list_index(parent, last, allow_end=True), value)
    else:
        raise PatchError("cannot add to a scalar")
    return document


def json_patch(document, operations):
    """RFC 6902: add, remove, replace, move, copy, test."""
    if not isinstance(operations, list):
        raise ValueError("a JSON patch must be an array of operations")
    document = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ValueError("invalid JSON patch operation: %s" % json.dumps(op))
        kind, path = op["op"], op["path"]
        if kind == "add":
            document = add_at(document, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            remove_at(document, path)
        elif kind == "replace":
            document = add_at(document, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "move":
            value = remove_at(document, op["from"])
            document = add_at(document, path, value)
        elif kind == "copy":
            document = add_at(document, path, copy.deepcopy(get_at(document, op["from"])))
        elif kind == "test":
            if get_at(document, path) != op.get("value"):
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise ValueError("Unexpected kind: %s" % kind)
    return document


# ---------------------------------------------------------------------------------------------
# State shared by the REST handlers and the control channel

# How long a read asking for a resourceVersion the watch cache has not reached waits for it
# before 504 (kube-apiserver's cacher: 3 s); the watchCacheLag command can shorten it.
CACHE_WAIT_MS = 3000

# Writes remembered for the watch cache and exact-version lists.
HISTORY_LIMIT = 100000


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}  # (kind, namespace, name) -> object
        self.version = 1000  # above the fixtures' own numbers
        self.tokens = {}  # token -> Subject
        self.cert_users = {}  # CN -> Subject
        self.faults = {}
        self.log = []
        self.unserved = set()  # "group/version" paths answered 404, as a server without them
        # Every write, oldest first: (the version before it, key, the object before it or None).
        # The watch cache and exact-version lists replay it backwards.
        self.history = []
        self.cache_lag = 0  # how many writes the watch cache is behind storage
        self.cache_wait_ms = CACHE_WAIT_MS

    def bump(self):
        self.version += 1
        return str(self.version)

    def commit(self, key, obj):
        """Under the lock: stores `obj` under `key` (None deletes) with a new resourceVersion, as
        etcd's revision counter moves on every write, and records the write for the watch cache."""
        before = self.objects.get(key)
        self.history.append((self.version, key, copy.deepcopy(before)))
        del self.history[:-HISTORY_LIMIT]
        version = self.bump()
        if obj is None:
            self.objects.pop(key, None)
        else:
            obj["metadata"]["resourceVersion"] = version
            self.objects[key] = obj
        return obj

    def cache_version(self):
        """Under the lock: the resourceVersion the watch cache has reached (`cache_lag` writes
        behind storage)."""
        lag = min(self.cache_lag, len(self.history))
        return self.history[-lag][0] if lag else self.version

    def objects_at(self, version):
        """Under the lock: every object as it was at `version` (storage's state with the later
        writes undone), as copies."""
        objects = dict(self.objects)
        for before_version, key, before in reversed(self.history):
            if before_version < version:
                break
            if before is None:
                objects.pop(key, None)
            else:
                objects[key] = before
        return {key: copy.deepcopy(obj) for key, obj in objects.items()}

    def oldest_version(self):
        """Under the lock: the oldest resourceVersion the history can rebuild."""
        return self.history[0][0] if self.history else self.version

    def wait_for_cache(self, version):
        """Whether the watch cache reaches `version` within `cache_wait_ms`, as kube-apiserver's
        cacher waits (3 s) for a resourceVersion it has not seen yet. Takes the lock itself."""
        deadline = time.monotonic() + self.cache_wait_ms / 1000.0
        while True:
            with self.lock:
                if self.cache_version() >= version:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def put(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("object must be a JSON object")
        kind = obj.get("kind")
        if kind not in KINDS:
            raise ValueError("unsupported kind %r (%s)" % (kind, ", ".join(sorted(KINDS))))
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            raise ValueError("metadata.name is required")
        if kind in CLUSTER_SCOPED:
            meta.pop("namespace", None)
        else:
            meta.setdefault("namespace", "default")
        if KINDS[kind][2] == DRA_GROUP:
            meta.setdefault("generation", 1)
        obj.setdefault("apiVersion", KINDS[kind][0])
        with self.lock:
            return copy.deepcopy(self.store(kind, obj))

    def store(self, kind, obj):
        """Under the lock: uid, creationTimestamp and a new resourceVersion, as the server sets them."""
        meta = obj["metadata"]
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return self.commit((kind, meta.get("namespace", ""), meta["name"]), obj)

    def get(self, kind, namespace, name):
        with self.lock:
            obj = self.objects.get((kind, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, kind, namespace):
        with self.lock:
            return [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items(), key=lambda item: item[0])
                    if k == kind and (namespace is None or ns == namespace)]

    def delete(self, kind, namespace, name):
        with self.lock:
            if (kind, namespace, name) not in self.objects:
                return False
            self.commit((kind, namespace, name), None)
            return True

    def record(self, entry):
        with self.lock:
            self.log.append(entry)

    def next_failure(self, method, path):
        """The injected status for this request, if a failNext entry matches (consumes one)."""
        rule = self.take_rule("failNext", method, path)
        return injected(int(rule.get("status", 503)), rule.get("message")) if rule else None

    def take_rule(self, key, method, path):
        """Consumes one use of the first rule under `key` matching this request, if any."""
        with self.lock:
            for rule in self.faults.get(key, []):
                if rule.get("count", 1) <= 0:
                    continue
                if rule.get("pathContains", "") not in path or rule.get("method", method) != method:
                    continue
                rule["count"] = rule.get("count", 1) - 1
                return dict(rule)
            return None

    def write_concurrently(self, target, method, path):
        """A `concurrentWrite` fault: another client (the kubelet, say) changes the object just
        before this request is served, so a write carrying the old resourceVersion meets a real
        409 and a re-read sees the other writer's change."""
        rule = self.take_rule("concurrentWrite", method, path)
        if not rule:
            return
        with self.lock:
            current = self.objects.get((target.kind, target.namespace, target.name))
            if current is None:
                return
            updated = merge_patch(current, {"metadata": {"annotations": rule.get("annotations", {"test/concurrent-writer": "1"})}})
            self.commit((target.kind, target.namespace, target.name), updated)

    def delay(self, method, path):
        """The `delays` fault: milliseconds to wait before answering this request (the first
        matching rule's), every time it matches."""
        with self.lock:
            for rule in self.faults.get("delays", []):
                if rule.get("pathContains", "") in path and rule.get("method", method) == method:
                    return int(rule.get("ms", 0))
        return 0

    def take_reset(self):
        with self.lock:
            if self.faults.get("resetNext", 0) > 0:
                self.faults["resetNext"] -= 1
                return True
            return False

    def take_raw(self):
        """The next `rawNext` answer (consumed), if any: bytes sent as they are."""
        with self.lock:
            answers = self.faults.get("rawNext", [])
            return answers.pop(0).encode("latin-1") if answers else None

    def fault(self, key, default):
        with self.lock:
            return self.faults.get(key, default)


class Subject:
    """An authenticated user and what RBAC grants it: `rules` in `namespaces` ("*": all, as a
    ClusterRoleBinding; a list: RoleBindings in those namespaces only). `node`: the node a
    service account's pod-bound token names (its `authentication.kubernetes.io/node-name`
    extra, Kubernetes 1.32+), which makes it associated with that node."""

    def __init__(self, user, namespaces="*", role=None, node=None, anonymous=False):
        self.user = user
        self.namespaces = namespaces
        self.rules = rules_for(role)
        self.role_name = role if isinstance(role, str) else ("multus" if role is None else "test-rules")
        self.node = node
        self.bindings = ANONYMOUS_BINDINGS if anonymous else AUTHENTICATED_BINDINGS

    def associated_with(self, node):
        """As kube-apiserver's saAssociatedWithAllocatedNode: a service account whose token
        names exactly this node."""
        return bool(node) and self.user.startswith("system:serviceaccount:") and self.node == node

    def may(self, verb, target):
        return self.grant(verb, target) is not None

    def grant(self, verb, target):
        """The binding that allows `verb` on `target` (anything with namespace, group, resource,
        subresource and name), described as RBAC's reason describes it; None if none does. A
        RoleBinding grants within its namespace; only a ClusterRoleBinding reaches cluster scope."""
        attributes = (verb, target.group, target.resource, target.subresource, target.name)
        if self.namespaces == "*" and authorized(self.rules, *attributes):
            return 'ClusterRoleBinding "%s" of ClusterRole "%s" to %s' % (self.role_name, self.role_name, self.described())
        for binding, group, rules in self.bindings:
            if authorized(rules, *attributes):
                return 'ClusterRoleBinding "%s" of ClusterRole "%s" to Group "%s"' % (binding, binding, group)
        if self.namespaces != "*" and target.namespace in (self.namespaces or []) and authorized(self.rules, *attributes):
            return 'RoleBinding "%s/%s" of ClusterRole "%s" to %s' % (self.role_name, target.namespace, self.role_name, self.described())
        return None

    def url_grant(self, verb, path):
        """As `grant`, for a non-resource path; only ClusterRoleBindings grant those."""
        if self.namespaces == "*" and url_allowed(self.rules, verb, path):
            return 'ClusterRoleBinding "%s" of ClusterRole "%s" to %s' % (self.role_name, self.role_name, self.described())
        for binding, group, rules in self.bindings:
            if url_allowed(rules, verb, path):
                return 'ClusterRoleBinding "%s" of ClusterRole "%s" to Group "%s"' % (binding, binding, group)
        return None

    def described(self):
        """The binding's subject as RBAC describes it (a service account as "name/namespace")."""
        parts = self.user.split(":")
        if len(parts) == 4 and self.user.startswith("system:serviceaccount:"):
            return 'ServiceAccount "%s/%s"' % (parts[3], parts[2])
        return 'User "%s"' % self.user


class Attributes:
    """What a request or an access review asks to do, as the authorizer sees it."""

    def __init__(self, namespace, group, resource, subresource, name):
        self.namespace = namespace
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.name = name


# ---------------------------------------------------------------------------------------------
# REST


class Route:
    """One REST path: a collection (name "") or a named object, and its subresource."""

    def __init__(self, kind, namespace, name, subresource):
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
        _, self.resource, self.group = KINDS[kind]

    def allowed_methods(self):
        if not self.name:
            return ("GET", "POST") if self.kind == "Event" else ("GET",)
        if self.kind == "Pod" and self.subresource == "status":
            return ("GET", "PATCH", "PUT")
        if self.kind == "ResourceClaim" and self.subresource == "status":
            return ("GET", "PATCH")
        return ("GET",)

    def group_version(self):
        return KINDS[self.kind][0]

    def verb(self, method, query):
        """The RBAC verb of a request, as kube-apiserver's RequestInfo derives it."""
        if method == "GET":
            if self.name:
                return "get"
            return "watch" if query.get("watch", [""])[0] in ("1", "true") else "list"
        if method == "DELETE":
            return "delete" if self.name else "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch", "HEAD": "get"}.get(method, method.lower())


def route(path):
    parts = path.strip("/").split("/")
    if parts == ["api", "v1", "pods"]:
        return Route("Pod", "", "", "")
    if parts == ["apis", NAD_GROUP, "v1", "network-attachment-definitions"]:
        return Route("NetworkAttachmentDefinition", "", "", "")
    if len(parts) >= 5 and parts[:3] == ["api", "v1", "namespaces"]:
        namespace, resource, rest = parts[3], parts[4], parts[5:]
        kind = {"pods": "Pod", "events": "Event"}.get(resource)
        if kind is None or len(rest) > 2 or (len(rest) == 2 and (kind != "Pod" or rest[1] != "status")):
            return None
        return Route(kind, namespace, rest[0] if rest else "", rest[1] if len(rest) == 2 else "")
    if (len(parts) in (6, 7) and parts[:4] == ["apis", NAD_GROUP, "v1", "namespaces"]
            and parts[5] == "network-attachment-definitions"):
        return Route("NetworkAttachmentDefinition", parts[4], parts[6] if len(parts) == 7 else "", "")
    if len(parts) in (6, 7, 8) and parts[:4] == ["apis", DRA_GROUP, "v1", "namespaces"] and parts[5] == "resourceclaims":
        if len(parts) == 8 and parts[7] != "status":
            return None
        return Route("ResourceClaim", parts[4], parts[6] if len(parts) >= 7 else "", parts[7] if len(parts) == 8 else "")
    if len(parts) in (4, 5) and parts[:4] == ["apis", DRA_GROUP, "v1", "resourceslices"]:
        return Route("ResourceSlice", "", parts[4] if len(parts) == 5 else "", "")
    return None


def field_filter(kind, text):
    """A list's fieldSelector as kube-apiserver applies it: comma-separated `label=value`,
    `label==value` or `label!=value`, all of which must hold. Returns (predicate, error)."""
    labels = {"metadata.name": lambda o: o["metadata"]["name"]}
    if kind not in CLUSTER_SCOPED:
        labels["metadata.namespace"] = lambda o: o["metadata"].get("namespace", "")
    labels.update(FIELD_LABELS.get(kind, {}))
    terms = []
    for term in filter(None, text.split(",")):
        for operator in ("!=", "==", "="):
            label, found, value = term.partition(operator)
            if found:
                break
        else:
            return None, bad_request('invalid selector: \'%s\'; can\'t understand \'%s\'' % (text, term))
        if label not in labels:
            return None, bad_request("field label not supported: %s" % label)
        terms.append((labels[label], operator != "!=", value))
    return (lambda o: all((read(o) == value) == equal for read, equal, value in terms)), None


def list_options_problem(version, match):
    """ListOptions validation (apimachinery's ValidateListOptions) of resourceVersion and
    resourceVersionMatch, as one 422 `Invalid`."""
    causes = []
    if match:
        if not version:
            causes.append(("resourceVersionMatch", "Forbidden", "resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if match not in ("Exact", "NotOlderThan"):
            causes.append(("resourceVersionMatch", 'Unsupported value: "%s"' % match, 'supported values: "Exact", "NotOlderThan", ""'))
        if match == "Exact" and version == "0":
            causes.append(("resourceVersionMatch", "Forbidden", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
    return invalid_object("ListOptions.meta.k8s.io", "", causes) if causes else None


def read_plan(state, query, listing):
    """Where a read is served from, as kube-apiserver's cacher decides: ((source, version), None)
    with source "storage" (no resourceVersion: a quorum read of etcd), "cache" (`0`, or a version
    the watch cache has reached, waiting for it up to `cache_wait_ms`) or "exact" (a list with
    resourceVersionMatch=Exact: storage at that version); or (None, error). A version the cache
    does not reach in time is 504 `Timeout`, as the cacher's too-large-resource-version error."""
    version = query.get("resourceVersion", [""])[0]
    match = query.get("resourceVersionMatch", [""])[0] if listing else ""
    if listing:
        problem = list_options_problem(version, match)
        if problem:
            return None, problem
    if version == "":
        return ("storage", None), None
    if not version.isdigit():
        return None, bad_request('invalid resourceVersion "%s": must be a non-negative integer' % version[:64])
    number = int(version)
    if match == "Exact":
        return ("exact", number), None
    if number == 0 or state.wait_for_cache(number):
        return ("cache", None), None
    with state.lock:
        current = state.cache_version()
    return None, too_large_resource_version(number, current)


def too_large_resource_version(asked, current):
    """504 as apiserver's storage.NewTooLargeResourceVersionError builds it (a Timeout with one
    ResourceVersionTooLarge cause, retry after 1 s)."""
    return status(504, "Timeout", "Timeout: Too large resource version: %d, current: %d" % (asked, current), {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "swift-multus-test-apiserver"
    timeout = 120

    def log_message(self, format, *args):  # keep stderr for real problems
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle holds the body back
        # until the client's delayed ACK (~40 ms a request), which a real API server never does.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.serve()

    def do_PATCH(self):
        self.serve()

    def do_PUT(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def do_DELETE(self):
        self.serve()

    def do_HEAD(self):
        self.serve()

    def serve(self):
        state = self.server.state
        path, _, query = self.path.partition("?")
        body = self.read_body()
        subject = self.authenticate()
        entry = {"method": self.command, "path": path, "query": query, "status": 0, "user": subject.user if subject else None,
                 "contentType": self.headers.get("Content-Type"),
                 "tlsResumed": bool(getattr(self.connection, "session_reused", False)),
                 "clientPort": self.client_address[1] if self.client_address else 0}
        latency = state.fault("latencyMs", 0) + state.delay(self.command, path)
        if latency:
            time.sleep(latency / 1000.0)
        if state.take_reset():
            state.record(entry)
            self.reset()
            return
        raw = state.take_raw()
        if raw is not None:
            state.record(entry)
            self.close_connection = True
            self.write_slowly(raw, state.fault("trickleMs", 0))
            return
        self.served_from = None
        code, answer = self.answer(path, urllib.parse.parse_qs(query), body, subject)
        entry["status"] = code
        entry["servedFrom"] = self.served_from
        if code < 300 and self.command in ("POST", "PUT", "PATCH"):
            entry["body"] = answer
        state.record(entry)
        self.send(code, answer)

    def answer(self, path, query, body, subject):
        """In kube-apiserver's order: authentication, request info (the path), authorization,
        then the handler. Injected faults come after authorization: a request the role refuses
        is refused whatever else is going on."""
        state = self.server.state
        if subject is None:
            # Anonymous requests are allowed only to the public-info paths (kube-apiserver's
            # AuthenticationConfiguration anonymous.conditions); failed credentials never are.
            if self.credentials_presented or path not in PUBLIC_INFO:
                return unauthorized()
            subject = Subject("system:anonymous", role="none", anonymous=True)
        if path == ACCESS_REVIEW_PATH:
            return self.review_access(subject, body)
        page = discovery(state, path, self.server.server_address[1])
        if page is not None:
            verb = self.command.lower()
            if subject.url_grant(verb, path) is None:
                return forbidden_path(subject.user, verb, path)
            return page if self.command in ("GET", "HEAD") else method_not_allowed()
        target = route(path)
        if target is None:
            return no_route()
        verb = target.verb(self.command, query)
        if not subject.may(verb, target):
            return forbidden(subject.user, verb, target.resource, target.subresource, target.group,
                             target.namespace, target.name)
        with state.lock:
            # Authorization reads the path alone, so a group version the server lacks is refused
            # before it is found missing.
            if target.group_version() in state.unserved:
                return no_route()
        failure = state.next_failure(self.command, path)
        if failure:
            return failure
        if self.command not in target.allowed_methods():
            return method_not_allowed()
        state.write_concurrently(target, self.command, path)
        if self.command == "GET":
            return self.read(target, query)
        if self.command == "POST":
            return self.create(target, body)
        if target.kind == "ResourceClaim":
            return self.apply_claim_status(target, body, query, subject)
        return self.write(target, body)

    def review_access(self, subject, body):
        """POST of a SelfSubjectAccessReview, authorized as any request (system:basic-user lets
        every authenticated user create one)."""
        verb = {"POST": "create", "GET": "list"}.get(self.command, self.command.lower())
        target = Attributes("", "authorization.k8s.io", "selfsubjectaccessreviews", "", "")
        if not subject.may(verb, target):
            return forbidden(subject.user, verb, target.resource, "", target.group, "", "")
        with self.server.state.lock:
            if "authorization.k8s.io/v1" in self.server.state.unserved:
                return no_route()
        if self.command != "POST":
            return method_not_allowed()
        review, error = self.decoded(body)
        if error:
            return error
        return access_review(subject, review)

    def read(self, target, query):
        """A GET of one object or a list, from storage or from the watch cache as kube-apiserver's
        cacher chooses by the resourceVersion asked for (README.md, "Watch cache")."""
        state = self.server.state
        selected = lambda o: True  # noqa: E731
        if not target.name:
            selected, error = field_filter(target.kind, query.get("fieldSelector", [""])[0])
            if error:
                return error
        plan, error = read_plan(state, query, listing=not target.name)
        if error:
            return error
        source, version = plan
        self.served_from = "cache" if source == "cache" else "storage"
        with state.lock:
            if source == "storage":
                version = state.version
                objects = state.objects_at(version)
            elif source == "cache":
                version = state.cache_version()
                objects = state.objects_at(version)
            else:
                if version < state.oldest_version():
                    return status(410, "Expired", "The resourceVersion for the provided list is too old.", {})
                objects = state.objects_at(version)
        if target.name:
            obj = objects.get((target.kind, target.namespace, target.name))
            return (200, obj) if obj is not None else not_found(target.resource, target.group, target.name)
        items = [o for (k, ns, _), o in sorted(objects.items(), key=lambda item: item[0])
                 if k == target.kind and (not target.namespace or ns == target.namespace) and selected(o)]
        return 200, {"kind": target.kind + "List", "apiVersion": KINDS[target.kind][0],
                     "metadata": {"resourceVersion": str(version)}, "items": items}

    def decoded(self, body):
        try:
            return json.loads(body.decode("utf-8")) if body else None, None
        except ValueError as error:
            return None, bad_request("error decoding request body: %s" % error)

    def create(self, target, body):
        """POST of an Event, validated as core/v1 events are (legacy validation)."""
        state = self.server.state
        obj, error = self.decoded(body)
        if error:
            return error
        if not isinstance(obj, dict) or obj.get("kind", "Event") != "Event":
            return bad_request("the body of the request must be an Event")
        meta = obj.setdefault("metadata", {})
        meta.setdefault("namespace", target.namespace)
        if meta["namespace"] != target.namespace:
            return bad_request("the namespace of the provided object does not match the namespace sent on the request")
        causes = event_problems(obj)
        if causes:
            return invalid_object("Event", meta.get("name", ""), causes)
        obj["apiVersion"] = "v1"
        obj["kind"] = "Event"
        with state.lock:
            if ("Event", target.namespace, meta["name"]) in state.objects:
                return already_exists(target.resource, target.group, meta["name"])
            return 201, copy.deepcopy(state.store("Event", obj))

    def write(self, target, body):
        state = self.server.state
        if self.command == "PATCH" and self.patch_type() not in PATCH_TYPES:
            return UNSUPPORTED_PATCH
        payload, error = self.decoded(body)
        if error:
            return error
        with state.lock:
            key = (target.kind, target.namespace, target.name)
            current = state.objects.get(key)
            if current is None:
                return not_found(target.resource, target.group, target.name)
            if self.command == "PATCH":
                outcome = self.patched(current, payload)
            else:
                outcome = self.replaced(current, payload, target)
            if isinstance(outcome, tuple):
                return outcome
            sent_version = outcome.get("metadata", {}).get("resourceVersion")
            if sent_version not in (None, "", current["metadata"]["resourceVersion"]):
                return conflict(target.resource, target.group, target.name)
            updated = status_update(current, outcome)
            return 200, copy.deepcopy(state.commit(key, updated))

    def apply_claim_status(self, target, body, query, subject):
        """Server-side apply of a ResourceClaim's status (the only write claims take here), in
        kube-apiserver's order: the request (content type, fieldManager, force, the body), the
        resourceVersion precondition, the apply (409 on a field another manager owns), then the
        status strategy's validation with KEP-4817's per-driver authorization (422)."""
        state = self.server.state
        if self.patch_type() != APPLY_PATCH:
            return UNSUPPORTED_PATCH
        manager = query.get("fieldManager", [""])[0]
        if not manager:
            return bad_request('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
        force = query.get("force", ["false"])[0]
        if force not in ("true", "false"):
            return bad_request('invalid value for force: "%s"' % force)
        applied, error = self.decoded(body)
        if error:
            return error
        problem = apply_body_problem(applied, target)
        if problem:
            return bad_request(problem)
        with state.lock:
            key = (target.kind, target.namespace, target.name)
            current = state.objects.get(key)
            if current is None:
                return not_found(target.resource, target.group, target.name)
            sent_version = applied["metadata"].get("resourceVersion")
            if sent_version not in (None, "", current["metadata"]["resourceVersion"]):
                return conflict(target.resource, target.group, target.name)
            # Through the status subresource only status counts; spec and the rest are reset.
            try:
                result, managed = fieldsets.apply(
                    {"status": current.get("status") or {}}, {k: v for k, v in applied.items() if k == "status"}, manager,
                    current["metadata"].get("managedFields") or [], CLAIM_SCHEMA, CLAIM_REQUIRED_KEYS, force == "true",
                    "status", KINDS["ResourceClaim"][0], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            except fieldsets.Conflict as clash:
                return apply_conflict(clash.conflicts)
            except fieldsets.KeyError_ as missing:
                return invalid_object("ResourceClaim", target.name, [("status.devices", "Required value", str(missing))])
            updated = copy.deepcopy(current)
            updated["status"] = result["status"]
            causes = device_status_authorization(subject, current, updated, self.command) + claim_status_problems(updated)
            if causes:
                return invalid_object(KINDS_QUALIFIED["ResourceClaim"], target.name, causes)
            updated["metadata"]["managedFields"] = managed
            if not managed:
                updated["metadata"].pop("managedFields")
            return 200, copy.deepcopy(state.commit(key, updated))

    def patched(self, current, patch):
        kind = self.patch_type()
        try:
            if kind == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    return bad_request("a merge patch must be a JSON object")
                return merge_patch(current, patch)
            if kind == "application/strategic-merge-patch+json":
                if not isinstance(patch, dict):
                    return bad_request("a strategic merge patch must be a JSON object")
                return merge_patch(current, strip_directives(patch))
            if kind == "application/json-patch+json":
                return json_patch(current, patch)
        except PatchError as error:
            return invalid(str(error))
        except (ValueError, KeyError, TypeError) as error:
            return bad_request(str(error))
        return UNSUPPORTED_PATCH

    def patch_type(self):
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    def replaced(self, current, body, target):
        if not isinstance(body, dict):
            return bad_request("the body of a PUT must be a Pod object")
        meta = body.get("metadata") or {}
        if meta.get("name", target.name) != target.name:
            return bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                               % (meta.get("name"), target.name))
        if meta.get("namespace", target.namespace) != target.namespace:
            return bad_request("the namespace of the provided object does not match the namespace sent on the request")
        replaced = copy.deepcopy(current)
        for field in ("annotations", "labels"):
            replaced["metadata"].pop(field, None)
            if field in meta:
                replaced["metadata"][field] = meta[field]
        if "resourceVersion" in meta:
            replaced["metadata"]["resourceVersion"] = meta["resourceVersion"]
        replaced.pop("status", None)
        if "status" in body:
            replaced["status"] = body["status"]
        return replaced

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def authenticate(self):
        """The Subject, or None. x509 first, then bearer tokens, as kube-apiserver's union
        authenticator does: a verified client certificate's CN is the user (with no rights
        unless registered with certuser)."""
        state = self.server.state
        self.credentials_presented = False
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if cert:
            cn = next((v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"), None)
            if cn:
                with state.lock:
                    return state.cert_users.get(cn) or Subject(cn, role="none")
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            self.credentials_presented = True
            with state.lock:
                subject = state.tokens.get(token.strip())
            claims = jwt_claims(token.strip())
            if subject is not None and claims is not None and not jwt_current(claims, time.time()):
                return None  # expired or not yet valid: 401, as any failed authentication
            return subject
        return None

    def write_slowly(self, data, trickle_ms):
        """All of `data` at once, or with `trickle_ms` one byte at a time with that pause between."""
        if not trickle_ms:
            self.wfile.write(data)
            self.wfile.flush()
            return
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            time.sleep(trickle_ms / 1000.0)

    def send(self, code, obj):
        text = isinstance(obj, str)  # /healthz and friends answer plain text
        data = obj.encode("utf-8") if text else (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
        trickle = self.server.state.fault("trickleMs", 0)
        if trickle:
            head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
                code, self.responses.get(code, ("",))[0], len(data))
            self.write_slowly(head.encode("latin-1") + (b"" if self.command == "HEAD" else data), trickle)
            return
        chunked = self.server.state.fault("chunked", False)
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if text else "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("X-Content-Type-Options", "nosniff")
        retry = ((obj.get("details") or {}).get("retryAfterSeconds") if isinstance(obj, dict) else None) or 0
        if code == 429 or (code >= 500 and retry):
            # As apiserver's responsewriters: a 429 or 5xx Status with retryAfterSeconds says so in the header.
            self.send_header("Retry-After", str(retry))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if chunked:
            half = max(1, len(data) // 2)
            for piece in (data[:half], data[half:]):
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def reset(self):
        """Drops the connection without an answer; SO_LINGER 0 makes it a TCP RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


def event_problems(event):
    """core/v1 Event validation as kube-apiserver applies it to a v1 create: a name, the
    involved object in the event's own namespace, and for an event with eventTime the reporting
    fields; each problem as a StatusCause."""
    meta = event.get("metadata") or {}
    causes = []
    if not meta.get("name"):
        causes.append(("metadata.name", "Required value", "name or generateName is required"))
    involved = event.get("involvedObject") or {}
    if involved.get("namespace", "") not in ("", meta.get("namespace")):
        causes.append(("involvedObject.namespace", 'Invalid value: "%s"' % involved.get("namespace"), "does not match event.namespace"))
    if event.get("eventTime"):
        for field in ("reportingComponent", "reportingInstance"):
            if not event.get(field):
                causes.append((field, "Required value", ""))
    if event.get("type") not in (None, "", "Normal", "Warning"):
        causes.append(("type", 'Unsupported value: "%s"' % event.get("type"), 'supported values: "Normal", "Warning"'))
    return causes


def invalid_object(kind, name, causes):
    texts = ["%s: %s%s" % (field, what, ": " + detail if detail else "") for field, what, detail in causes]
    message = '%s "%s" is invalid: %s' % (kind, name, texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]")
    details = {"name": name, "kind": kind,
               "causes": [{"reason": "FieldValue" + what.split(":")[0].replace(" ", ""), "message": what + (": " + d if d else ""),
                           "field": field} for field, what, d in causes]}
    return status(422, "Invalid", message, details)


APPLY_PATCH = "application/apply-patch+yaml"

# kind -> how a validation error names it (kube-apiserver prints the qualified kind).
KINDS_QUALIFIED = {"ResourceClaim": "ResourceClaim.resource.k8s.io"}

# resource.k8s.io/v1 ResourceClaim status, as its Go types mark it: status.devices a list-map by
# driver, device, pool and shareID (the first three required), each entry's conditions a
# list-map by type, its data (a RawExtension) atomic; every other list atomic.
CLAIM_SCHEMA = fieldsets.Schema(
    {("status", "devices"): ["driver", "device", "pool", "shareID"], ("status", "devices", "conditions"): ["type"]},
    atomic_maps=[("status", "devices", "data")])
CLAIM_REQUIRED_KEYS = {("status", "devices"): ["driver", "device", "pool"], ("status", "devices", "conditions"): ["type"]}


def apply_body_problem(applied, target):
    """What kube-apiserver refuses in an apply body before applying it (400)."""
    if not isinstance(applied, dict):
        return "an apply patch must be an object"
    if applied.get("apiVersion") != KINDS[target.kind][0] or applied.get("kind") != target.kind:
        return "apiVersion and kind must be %s and %s" % (KINDS[target.kind][0], target.kind)
    meta = applied.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") != target.name:
        return "the name of the object (%s) does not match the name on the URL (%s)" % ((meta or {}).get("name"), target.name)
    if meta.get("namespace", target.namespace) != target.namespace:
        return "the namespace of the provided object does not match the namespace sent on the request"
    if meta.get("managedFields") is not None:
        return "metadata.managedFields must be nil"
    return None


def apply_conflict(conflicts):
    """409 as structured-merge-diff words an apply's conflicts with other managers."""
    api_version = KINDS["ResourceClaim"][0]
    lines = ['conflict with "%s" using %s: %s' % (manager, api_version, fieldsets.path_text(path)) for manager, path in conflicts]
    message = "Apply failed with %d conflict%s: %s" % (len(lines), "" if len(lines) == 1 else "s", "; ".join(lines))
    causes = [{"reason": "FieldManagerConflict", "message": 'conflict with "%s" using %s' % (manager, api_version),
               "field": fieldsets.path_text(path)} for manager, path in conflicts]
    return status(409, "Conflict", message, {"causes": causes})


def device_key(entry):
    return (entry.get("driver"), entry.get("pool"), entry.get("device"), entry.get("shareID"))


def modified_drivers(old, new):
    """The drivers whose status.devices entries a write adds, removes or changes
    (kube-apiserver's getModifiedDrivers)."""
    before = {device_key(e): e for e in ((old.get("status") or {}).get("devices") or []) if isinstance(e, dict)}
    drivers = set()
    for entry in ((new.get("status") or {}).get("devices") or []):
        if not isinstance(entry, dict):
            continue
        if before.pop(device_key(entry), None) != entry:
            drivers.add(entry.get("driver"))
    drivers.update(e.get("driver") for e in before.values())
    return sorted(d for d in drivers if isinstance(d, str))


def allocated_node(claim):
    """The one node a claim's allocation is pinned to (a single term with only
    `metadata.name In [node]`), as kube-apiserver's nodeNameFromAllocation reads it."""
    selector = (((claim.get("status") or {}).get("allocation") or {}).get("nodeSelector") or {})
    terms = selector.get("nodeSelectorTerms") or []
    if len(terms) != 1 or terms[0].get("matchExpressions") or len(terms[0].get("matchFields") or []) != 1:
        return ""
    field = terms[0]["matchFields"][0]
    if field.get("key") != "metadata.name" or field.get("operator") != "In" or len(field.get("values") or []) != 1:
        return ""
    return field["values"][0]


def device_status_authorization(subject, old, new, method):
    """KEP-4817's check (DRAResourceClaimGranularStatusAuthorization, beta and on from Kubernetes
    1.36), run in the status strategy's validation: for each driver whose entries change, the
    caller needs `associated-node:<verb>` on the synthetic `resourceclaims/driver` named after
    the driver if it is a service account bound to the claim's allocated node, else (or failing
    that) `arbitrary-node:<verb>`. A refusal is a field error (422), one per driver."""
    verb = {"PUT": "update", "PATCH": "patch"}[method]
    namespace = new["metadata"].get("namespace", "")
    associated = subject.associated_with(allocated_node(new))
    verbs = (["associated-node:" + verb] if associated else []) + ["arbitrary-node:" + verb]
    causes = []
    for driver in modified_drivers(old, new):
        synthetic = Route("ResourceClaim", namespace, driver, "driver")
        if any(subject.may(v, synthetic) for v in verbs):
            continue
        _, refused = forbidden(subject.user, verbs[0], "resourceclaims", "driver", DRA_GROUP, namespace, driver)
        causes.append(("status.devices", "Forbidden", "changing status.devices requires extra permission: " + refused["message"]))
    return causes


def claim_status_problems(claim):
    """The status validation that concerns status.devices (resource/v1 limits): each entry for a
    device the allocation has, its networkData within bounds with interface addresses in CIDR
    form, at most 8 conditions, each complete."""
    results = (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
    allocated = {device_key(r) for r in results if isinstance(r, dict)}
    causes = []
    for i, entry in enumerate((claim.get("status") or {}).get("devices") or []):
        path = "status.devices[%d]" % i
        if device_key(entry) not in allocated:
            causes.append((path, 'Invalid value: "%s/%s/%s"' % entry_name(entry), "must be an allocated device in the claim"))
        network = entry.get("networkData") or {}
        if len(network.get("interfaceName", "")) > 256:
            causes.append((path + ".networkData.interfaceName", "Too long", "may not be longer than 256"))
        if len(network.get("hardwareAddress", "")) > 128:
            causes.append((path + ".networkData.hardwareAddress", "Too long", "may not be longer than 128"))
        ips = network.get("ips") or []
        if len(ips) > 16:
            causes.append((path + ".networkData.ips", "Too many", "must have at most 16 items"))
        for j, ip in enumerate(ips):
            if not interface_address(ip):
                causes.append(("%s.networkData.ips[%d]" % (path, j), 'Invalid value: "%s"' % ip, "must be a valid address in CIDR form"))
        if len(set(ips)) != len(ips):
            causes.append((path + ".networkData.ips", "Duplicate value", ""))
        conditions = entry.get("conditions") or []
        if len(conditions) > 8:
            causes.append((path + ".conditions", "Too many", "must have at most 8 items"))
        for j, condition in enumerate(conditions):
            for field in ("type", "status", "reason", "lastTransitionTime"):
                if not condition.get(field):
                    causes.append(("%s.conditions[%d].%s" % (path, j, field), "Required value", ""))
            if condition.get("status") not in (None, "", "True", "False", "Unknown"):
                causes.append(("%s.conditions[%d].status" % (path, j), 'Unsupported value: "%s"' % condition["status"], ""))
    return causes


def entry_name(entry):
    return (entry.get("driver"), entry.get("pool"), entry.get("device"))


def interface_address(text):
    """An address with its prefix length, as the API's IsValidInterfaceAddress takes it."""
    if not isinstance(text, str) or "/" not in text:
        return False
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True


def status_update(current, outcome):
    """What the pods/status subresource lets a write change: metadata.annotations, metadata.labels
    and status. Everything else (spec, uid, name, namespace) stays as stored."""
    updated = copy.deepcopy(current)
    outcome = copy.deepcopy(outcome)
    new_meta = outcome.get("metadata") if isinstance(outcome.get("metadata"), dict) else {}
    for field in ("annotations", "labels"):
        if field in new_meta and new_meta[field] is not None:
            updated["metadata"][field] = new_meta[field]
        else:
            updated["metadata"].pop(field, None)
    if outcome.get("status") is not None:
        updated["status"] = outcome["status"]
    else:
        updated.pop("status", None)
    return updated


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, context, state):
        self.context = context
        self.state = state
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        """The TLS handshake runs here, in the connection's own thread, so one slow client never
        holds up accept()."""
        try:
            request.settimeout(30)
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


# ---------------------------------------------------------------------------------------------
# Service account tokens as JWTs

# go-jose's DefaultLeeway, which kube-apiserver's service account token validator applies to
# exp, nbf and iat: a token is refused 60 s after it expires, not at once.
JWT_LEEWAY = 60
ISSUER = "https://kubernetes.default.svc.cluster.local"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_jwt(command):
    """A service account token laid out as kube-apiserver's TokenRequest issues one (claims in
    the order Go's map marshalling gives them), and the Subject it authenticates as. The
    signature is random bytes: this server does not verify signatures (kube-apiserver would)."""
    user = command.get("user", "system:serviceaccount:kube-system:multus")
    node = command.get("nodeName")
    now = int(time.time())
    expires = int(command.get("expiresAt", now + int(command.get("expiresIn", 3607))))
    not_before = int(command.get("notBefore", min(now, expires - 3607)))
    claims = {"aud": [ISSUER], "exp": expires, "iat": not_before, "iss": ISSUER, "jti": str(uuid.uuid4()),
              "nbf": not_before, "sub": user}
    parts = user.split(":")
    if len(parts) == 4 and user.startswith("system:serviceaccount:"):
        private = {"namespace": parts[2], "serviceaccount": {"name": parts[3], "uid": str(uuid.uuid4())}}
        if node:
            private["node"] = {"name": node, "uid": str(uuid.uuid4())}
            private["pod"] = {"name": command.get("podName", parts[3] + "-" + node), "uid": str(uuid.uuid4())}
        claims["kubernetes.io"] = private
    header = {"alg": "RS256", "kid": "swift-multus-test"}
    token = ".".join(b64url(json.dumps(part, separators=(",", ":"), sort_keys=True).encode()) for part in (header, claims))
    token += "." + b64url(os.urandom(256))
    return token, Subject(user, command.get("namespaces", "*"), command.get("role"), node)


def jwt_claims(token):
    """The payload of a token shaped as a JWT (three base64url parts), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def jwt_current(claims, now):
    """Whether a JWT's exp, nbf and iat hold now, with kube-apiserver's leeway."""
    for field, holds in (("exp", lambda t: now <= t + JWT_LEEWAY), ("nbf", lambda t: now >= t - JWT_LEEWAY),
                         ("iat", lambda t: now >= t - JWT_LEEWAY)):
        value = claims.get(field)
        if isinstance(value, (int, float)) and not holds(value):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# /version, health and discovery: non-resource paths

VERSION = {"major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
           "minCompatibilityMajor": "1", "minCompatibilityMinor": "36", "gitVersion": "v1.37.0",
           "gitCommit": "4f1b6bd7e0d21c5e9a8b3f6c2d7e9a0b1c3d5e7f", "gitTreeState": "clean",
           "buildDate": "2026-08-25T17:02:31Z", "goVersion": "go1.26.0", "compiler": "gc", "platform": "linux/amd64"}

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# group version -> the resources its discovery lists (what this server serves of them), with the
# verbs kube-apiserver lists for them.
API_RESOURCES = {
    "v1": [
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": ALL_VERBS, "shortNames": ["ev"]},
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ALL_VERBS,
         "shortNames": ["po"], "categories": ["all"]},
        {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get", "patch", "update"]},
    ],
    NAD_GROUP + "/v1": [
        {"name": "network-attachment-definitions", "singularName": "network-attachment-definition", "namespaced": True,
         "kind": "NetworkAttachmentDefinition", "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
         "shortNames": ["net-attach-def"]},
    ],
    DRA_GROUP + "/v1": [
        {"name": "resourceclaims", "singularName": "resourceclaim", "namespaced": True, "kind": "ResourceClaim", "verbs": ALL_VERBS},
        {"name": "resourceclaims/status", "singularName": "", "namespaced": True, "kind": "ResourceClaim", "verbs": ["get", "patch", "update"]},
        {"name": "resourceslices", "singularName": "resourceslice", "namespaced": False, "kind": "ResourceSlice", "verbs": ALL_VERBS},
    ],
    "authorization.k8s.io/v1": [
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
    ],
}


def served_versions(state, group):
    with state.lock:
        return [gv for gv in API_RESOURCES if "/" in gv and gv.split("/")[0] == group and gv not in state.unserved]


def api_group(state, group):
    versions = [{"groupVersion": gv, "version": gv.split("/")[1]} for gv in served_versions(state, group)]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]} if versions else None


def discovery(state, path, port):
    """The answer to a non-resource path (/version, /healthz, /api, /apis, /apis/G, /apis/G/V),
    or None when the path is not one."""
    if path in PUBLIC_INFO:
        return (200, VERSION) if path.startswith("/version") else (200, "ok")
    parts = path.strip("/").split("/")
    if path == "/api" or path == "/api/":
        return 200, {"kind": "APIVersions", "versions": ["v1"],
                     "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:%d" % port}]}
    if parts == ["api", "v1"]:
        return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": API_RESOURCES["v1"]}
    if parts[0] != "apis" or len(parts) > 3:
        return None
    if len(parts) == 1:
        groups = sorted({gv.split("/")[0] for gv in API_RESOURCES if "/" in gv})
        return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in (api_group(state, g) for g in groups) if g]}
    group = api_group(state, parts[1])
    if group is None:
        return no_route()
    if len(parts) == 2:
        return 200, dict({"kind": "APIGroup", "apiVersion": "v1"}, **group)
    group_version = parts[1] + "/" + parts[2]
    if group_version not in served_versions(state, parts[1]):
        return no_route()
    return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": API_RESOURCES[group_version]}


def forbidden_path(user, verb, path):
    """403 for a non-resource path, as kube-apiserver words it."""
    return status(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"' % (user, verb, path), {})


# ---------------------------------------------------------------------------------------------
# SelfSubjectAccessReview

ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
ACCESS_REVIEW_KIND = "SelfSubjectAccessReview.authorization.k8s.io"


def access_review(subject, review):
    """A SelfSubjectAccessReview answered by the RBAC code that authorizes requests: (code,
    body). `status.allowed` and, when allowed, RBAC's reason naming the binding; a refusal is
    `allowed: false` with no reason, as RBAC gives none (it has no opinion, nothing denies)."""
    if not isinstance(review, dict) or review.get("kind", "SelfSubjectAccessReview") != "SelfSubjectAccessReview" or \
            review.get("apiVersion", "authorization.k8s.io/v1") != "authorization.k8s.io/v1":
        return bad_request("the body of the request must be an authorization.k8s.io/v1 SelfSubjectAccessReview")
    spec = review.get("spec") if review.get("spec") is not None else {}
    resource = spec.get("resourceAttributes") if isinstance(spec, dict) else None
    path = spec.get("nonResourceAttributes") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(resource, (dict, type(None))) or not isinstance(path, (dict, type(None))):
        return bad_request("error decoding request body: spec, resourceAttributes and nonResourceAttributes must be objects")
    if resource is None and path is None:
        return invalid_object(ACCESS_REVIEW_KIND, "", [("spec.resourceAttributes", "Required value",
                                                        "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
    if resource is not None and path is not None:
        return invalid_object(ACCESS_REVIEW_KIND, "", [("spec.nonResourceAttributes", "Invalid value: %s" % json.dumps(path, sort_keys=True),
                                                        "cannot be specified in combination with resourceAttributes")])
    if resource is not None:
        text = {k: resource.get(k, "") if isinstance(resource.get(k, ""), str) else "" for k in
                ("namespace", "verb", "group", "resource", "subresource", "name")}
        reason = subject.grant(text["verb"], Attributes(text["namespace"], text["group"], text["resource"], text["subresource"], text["name"]))
    else:
        reason = subject.url_grant(str(path.get("verb", "")), str(path.get("path", "")))
    answer = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": None},
              "spec": spec, "status": {"allowed": reason is not None}}
    if reason is not None:
        answer["status"]["reason"] = "RBAC: allowed by " + reason
    return 201, answer


# ---------------------------------------------------------------------------------------------
# Control channel


def control(state, command):
    op = command.get("op")
    if op == "put":
        return state.put(copy.deepcopy(command["object"]))
    if op == "get":
        return state.get(command["kind"], command.get("namespace", default_namespace(command["kind"])), command["name"])
    if op == "delete":
        return state.delete(command["kind"], command.get("namespace", default_namespace(command["kind"])), command["name"])
    if op == "unserve":
        with state.lock:
            state.unserved = set(command.get("groupVersions", []))
        return None
    if op == "list":
        return state.list(command["kind"], command.get("namespace"))
    if op == "token":
        subject = Subject(command.get("user", "test-user"), command.get("namespaces", "*"), command.get("role"), command.get("nodeName"))
        with state.lock:
            state.tokens[command["token"]] = subject
        return None
    if op == "watchCacheLag":
        writes = command.get("writes", 0)
        if not isinstance(writes, int) or writes < 0:
            raise ValueError("writes must be a non-negative integer")
        with state.lock:
            state.cache_lag = writes
            state.cache_wait_ms = command.get("waitMs", CACHE_WAIT_MS)
            return {"cacheResourceVersion": str(state.cache_version()), "resourceVersion": str(state.version)}
    if op == "jwt":
        token, subject = mint_jwt(command)
        with state.lock:
            state.tokens[token] = subject
        return token
    if op == "certuser":
        subject = Subject(command["cn"], command.get("namespaces", "*"), command.get("role"))
        with state.lock:
            state.cert_users[command["cn"]] = subject
        return None
    if op == "faults":
        faults = {k: v for k, v in command.items() if k != "op"}
        for key in ("failNext", "concurrentWrite", "delays"):
            faults[key] = [dict(rule) for rule in faults.get(key, [])]
        with state.lock:
            state.faults = faults
        return None
    if op == "log":
        with state.lock:
            return {"requests": list(state.log)}
    if op == "clearlog":
        with state.lock:
            state.log = []
        return None
    raise ValueError("unknown op %r" % op)


def default_namespace(kind):
    return "" if kind in CLUSTER_SCOPED else "default"


def reply(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def load_objects(state, directory, substitutions):
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            text = f.read()
        for old, new in substitutions:
            text = text.replace(old, new)
        document = json.loads(text)
        items = document["items"] if document.get("kind") == "List" else [document]
        for item in items:
            state.put(item)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="where the certificates are written")
    parser.add_argument("--objects", help="a directory of *.json objects (or Lists) to start with")
    parser.add_argument("--set", action="append", default=[], metavar="TEXT=REPLACEMENT",
                        help="replace TEXT in the object files before parsing them (e.g. @PARENT@=eth1)")
    parser.add_argument("--key-type", choices=sorted(KEYS), default="ec", help="the certificates' keys (default: ec, P-256)")
    parser.add_argument("--tls12-only", action="store_true", help="refuse TLS 1.3, as some proxies in front of API servers do")
    parser.add_argument("--server-subject", default=SERVER_SUBJECT, help="the server certificate's subject (default: %(default)s)")
    parser.add_argument("--server-sans", default=SERVER_SANS,
                        help="its subjectAltName, as openssl writes it; empty for none (default: %(default)s)")
    args = parser.parse_args()

    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    generate_certificates(directory, args.key_type, args.server_subject, args.server_sans)

    state = State()
    if args.objects:
        load_objects(state, args.objects, [tuple(s.split("=", 1)) for s in args.set if "=" in s])

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.tls12_only:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(os.path.join(directory, "server.crt"), os.path.join(directory, "server.key"))
    context.load_verify_locations(os.path.join(directory, "ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL

    server = Server(context, state)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 3600}, daemon=True).start()
    reply({"port": server.server_address[1], "ca": os.path.join(directory, "ca.crt"),
           "clientCert": os.path.join(directory, "client.crt"), "clientKey": os.path.join(directory, "client.key")})

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)
            if not isinstance(command, dict):
                raise ValueError("a command must be a JSON object")
            reply({"ok": True, "result": control(state, command)})
        except Exception as error:  # any bad command gets an answer, never kills the server
            reply({"ok": False, "error": "%s: %s" % (type(error).__name__, error)})
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        sys.stderr.write("apiserver: %s\n" % error)
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)
