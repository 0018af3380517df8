// libyaml from Debian's libyaml-dev, linked statically into release builds.
#include <yaml.h>
