// nghttp2 from Debian's libnghttp2-dev (HTTP/2 framing and HPACK), linked statically into release
// builds. Only the client side is used: one unary gRPC call to the kubelet's pod-resources socket.
#include <nghttp2/nghttp2.h>
