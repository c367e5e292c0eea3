// Debian's libffi-dev installs ffi.h under the multiarch include folder.
#include <ffi.h>
