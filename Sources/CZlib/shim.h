// zlib from Debian's zlib1g-dev, linked statically into release builds: gzip for rotated logs.
#include <zlib.h>
