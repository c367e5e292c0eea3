/* Loops the matrix libraries do not cover well, with e^x inside: the gated MLP's
   nonlinearity, softmax's exponentials, and a decoding step's attention (products too small
   for a library call to pay). Swift compiles for generic x86-64 and left these loops scalar
   (one float per instruction); here each runs 16 floats at a time with AVX-512 F when the CPU
   has it, and as plain C otherwise.

   e^x is Cephes' expf (range reduction by ln 2, degree-6 polynomial, relative error ~1e-7),
   its input clamped to [-87, 88]; a NaN input gives NaN. Every element goes through the same
   instructions wherever it sits in the array (the last partial vector is masked, not looped
   scalar), so an element's result does not depend on n or on how a caller splits the work.

   Threads: every function is pure over its arguments and may run on any threads at once on
   disjoint outputs. Memory is the caller's; nothing is allocated. */
#ifndef VECTOR_KERNELS_H
#define VECTOR_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* h[i] = silu(gate[i]) * up[i], silu(a) = a / (1 + e^-a). h may alias gate or up. */
void wb_swiglu_forward(float *h, const float *gate, const float *up, long n);

/* The backward of wb_swiglu_forward: with s = 1 / (1 + e^-g),
   dgate[i] = dh[i] * up[i] * s * (1 + g * (1 - s)), dup[i] = dh[i] * g * s. */
void wb_swiglu_backward(float *dgate, float *dup, const float *dh, const float *gate, const float *up, long n);

/* a[i] = e^(a[i] - shift) in place; returns the sum of the results (summed in 16 lanes, then
   across them, a fixed order for a given n). */
float wb_exp_shift_sum(float *a, long n, float shift);

/* The greatest of a[0..n) (-infinity when n is 0; NaNs are skipped unless all are NaN). */
float wb_max(const float *a, long n);

/* One decoding step's attention for `group` query heads that share a key/value head:
   out_r = softmax(scale * K q_r) . V for r < group, where q_r = q + r*hd, out_r = out + r*hd,
   and K, V are [span x hd] row-major (a cache's keys and values for one row and head).
   scores is the caller's scratch of span floats. The softmax subtracts the row's maximum, as
   softmax does everywhere in the engine. out must not alias q, k, v or scores. */
void wb_attend(float *out, float *scores, const float *q, const float *k, const float *v,
               long group, long span, long hd, float scale);

#ifdef __cplusplus
}
#endif

#endif
