// Debian's libopenblas-dev installs cblas.h under the multiarch include folder, which the
// default search path covers; openblas_set_num_threads comes from the same header.
#include <cblas.h>
