#!/usr/bin/env bash
# Fuzzes every input entry point with libFuzzer + AddressSanitizer (Tests/Fuzz/FuzzTarget.swift).
# Run by hand: bash Tests/scripts/fuzz.sh [seconds, default 60]. Crashes land in .build/fuzz/crashes;
# replay one with: swift run multus-fuzz <file>.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh
seconds=${1:-60}
swift build --scratch-path .build/fuzz-build --product multus-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING -Xswiftc -use-ld=lld >&2
corpus=.build/fuzz/corpus
mkdir -p "$corpus" .build/fuzz/crashes
# Seeds: every JSON and YAML fixture, tagged for each entry point.
i=0
for f in testdata/configs/*.conf* testdata/results/*.json testdata/meta/*.conf* testdata/annotations/* testdata/kubeconfigs/*.kubeconfig \
         testdata/k8s/*.json testdata/kube-scenarios/*.json testdata/dra/*.json testdata/install/*.conf* testdata/multus-cache/*/*/delegates.json testdata/multus-cache/*/*/results/* testdata/fuzz/*.json; do
  for tag in 0 1 2 3 4 5 6 7 9; do printf "\\x$(printf %02x $tag)" | cat - "$f" > "$corpus/seed-$i-$tag"; done
  i=$((i + 1))
done
# Annotations as the default-network override (entry point 2 with selector 14: 14 % 12 = 2, 14 / 10 odd).
for f in testdata/annotations/*; do printf '\x0e' | cat - "$f" > "$corpus/seed-$i-14"; i=$((i + 1)); done
# The same, as the pod annotations the runtime passes in runtimeConfig (2 with selector 26).
for f in testdata/annotations/*; do printf '\x1a' | cat - "$f" > "$corpus/seed-$i-26"; i=$((i + 1)); done
# Addresses and prefixes (3): read back as written.
for t in 10.1.0.5/16 fd00:0::1/64 ::ffff:10.1.2.3 0::/0 FD00::1; do printf '\x03%s' "$t" > "$corpus/seed-$i-3"; i=$((i + 1)); done
# The kubelet's pod-resources answers (entry point 8).
for f in testdata/podresources/*.bin; do printf '\x08' | cat - "$f" > "$corpus/seed-$i-8"; i=$((i + 1)); done
# Log lines (10): every fixture's text, as a log line would quote it.
for f in testdata/kubeconfigs/*.kubeconfig testdata/configs/*.conf*; do printf '\x0a' | cat - "$f" > "$corpus/seed-$i-10"; i=$((i + 1)); done
# multus doctor's inputs: a service account JWT (3, as text), and the API server's answers to
# /version, a SelfSubjectAccessReview, discovery and an event list (4), as the test API server gives them.
printf '\x03eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJleHAiOjE3OTk5OTk5OTksImlhdCI6MTc5OTk5NjM5MiwibmJmIjoxNzk5OTk2MzkyLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06bXVsdHVzIiwia3ViZXJuZXRlcy5pbyI6eyJub2RlIjp7Im5hbWUiOiJub2RlLTEiLCJ1aWQiOiJ1MSJ9fX0.c2ln' > "$corpus/seed-doctor-jwt"
printf '\x04{"major":"1","minor":"37","gitVersion":"v1.37.0","platform":"linux/amd64"}' > "$corpus/seed-doctor-version"
printf '\x04{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"verb":"update","resource":"pods","subresource":"status"}},"status":{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding \\"multus\\""}}' > "$corpus/seed-doctor-ssar"
printf '\x04{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"k8s.cni.cncf.io/v1","resources":[{"name":"network-attachment-definitions","singularName":"network-attachment-definition","namespaced":true,"kind":"NetworkAttachmentDefinition","verbs":["get","list"]}]}' > "$corpus/seed-doctor-discovery"
printf '\x04{"kind":"EventList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"e1","namespace":"blue"},"involvedObject":{"kind":"Pod","name":"web-1"},"reason":"DeviceStatusNotWritten","message":"refused"}]}' > "$corpus/seed-doctor-events"
# HTTP responses (11, then a piece-size byte): each framing the reader takes.
body='{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"default"}}'
printf '\x0b\x0fHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body" > "$corpus/seed-http-length"
printf '\x0b\x03HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n' "${#body}" "$body" > "$corpus/seed-http-chunked"
printf '\x0b\xffHTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s' "$body" > "$corpus/seed-http-close"
printf '\x0b\x00HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}' > "$corpus/seed-http-404"
exec .build/fuzz-build/debug/multus-fuzz "$corpus" -max_total_time="$seconds" -max_len=65536 -artifact_prefix=.build/fuzz/crashes/ -print_final_stats=1
