// The floor for a CNI plugin: a static C program that reads its config and answers as a plugin
// must (ADD: a result for CNI_IFNAME; VERSION: the reply in $NOOP_VERSION_REPLY, or a default;
// everything else: nothing) and does no work. What multus adds over running this directly is
// multus's own cost per call.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char buffer[65536];
    while (read(0, buffer, sizeof buffer) > 0) {}
    const char *command = getenv("CNI_COMMAND"), *ifname = getenv("CNI_IFNAME"), *netns = getenv("CNI_NETNS");
    if (!command) return 1;
    if (!strcmp(command, "ADD")) {
        printf("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"%s\",\"sandbox\":\"%s\"}],"
               "\"ips\":[{\"address\":\"10.250.0.2/24\",\"interface\":0}]}\n", ifname ? ifname : "eth0", netns ? netns : "");
    } else if (!strcmp(command, "VERSION")) {
        const char *reply = getenv("NOOP_VERSION_REPLY");
        puts(reply ? reply : "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
    }
    return 0;
}
