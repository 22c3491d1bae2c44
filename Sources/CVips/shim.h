// Umbrella header for the libvips system library (pkg-config: vips).
#include <vips/vips.h>
