// oneDNN from Debian's libdnnl-dev: the bf16 matrix products of frozen weights (BF16GEMM).
#include <oneapi/dnnl/dnnl.h>
