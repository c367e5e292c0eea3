/* Matrix products against frozen weights held in 8 bits, for the passes that sample: a decoded
   token's product reads a quarter of the float32 weights' bytes (about half of bf16's), and
   decoding one sequence is bound by how fast the weights stream from memory.

   Weights: W [n x k] row-major float32, rounded per 32 consecutive inputs of a row to
   w ~ d * u + m with u in 0..255, d = (max - min) / 255 and m = min of those 32 (d and m held
   as fp16). Weights that came from a 4- or 8-bit GGUF block of 32 keep their values (up to d's
   fp16 rounding): each block's levels are levels of this grid.
   Layout, blocks of 16 output rows: `packed` holds, for each 4 consecutive inputs, the 16 rows'
   4 bytes side by side (64 bytes, one AVX-512 register): n*k bytes, so matrices adjacent in a
   parameter store stay adjacent packed (a fused q/k/v product reads them as one). `scales`
   holds, per 16-row block and 32 inputs, the 16 rows' d then their m: n*k/16 halves, the same
   order. n must be a multiple of 16 and k of 32.

   Inputs: each row of x is rounded per 32 consecutive values, by wb_int8_quantize at the time
   of the product, to two int8 parts: hi = round(x / step) with step = max|x| / 127, and
   lo = round((x - hi * step) / (step / 254)), so x ~ (254 * hi + lo) * step / 254 to about 15
   significant bits. One int8 part alone (llama.cpp's Q8_0) moved SmolLM2's logits by ~5x
   bf16's rounding; the second costs nothing when decoding one row, which waits on memory,
   and about 1.6x the arithmetic for many rows.

   The products multiply with AVX-512 VNNI (vpdpbusd: unsigned x signed bytes into int32),
   exactly, so a row's result does not depend on the other rows in the call.

   Threads: every function is pure over its arguments; the caller splits a product over output
   blocks (wb_int8_gemm's block range) and may run the parts on any threads at once. Memory is
   the caller's throughout; nothing is allocated. */
#ifndef INT8_KERNELS_H
#define INT8_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this CPU has AVX-512 F, BW and VNNI and F16C, which every function below needs; 0
   otherwise (then calling them is an illegal instruction). */
int wb_int8_supported(void);

/* Rounds W [n x k] (row-major float32) into `packed` (n*k bytes) and `scales` (n*k/16 fp16
   values), the layout above. Returns 0, or 1 when a weight is not finite or beyond fp16's range
   (then what was written is not to be used). */
int wb_int8_pack(uint8_t *packed, uint16_t *scales, const float *w, int n, int k);

/* Rounds `rows` rows of x (k values each, rows `ldx` apart) to two int8 parts: `xq` [rows x 2k],
   each row's k hi values then its k lo values; per 32 values the scale of 254 * hi + lo,
   `xs` [rows x k/32] (step / 254), and the sum of the 32 values as rounded, `xsum`
   [rows x k/32] (what the weights' m multiplies). A block holding NaN or infinity gets NaN, so
   its row's outputs are NaN, as a float product's would be. */
void wb_int8_quantize(int8_t *xq, float *xs, float *xsum, const float *x, int ldx, int rows, int k);

/* y[r][16b + i] (+)= x_r . W_(16b+i) for rows r < rows and output blocks b in [block_lo,
   block_hi), from wb_int8_quantize's xq/xs/xsum of x and wb_int8_pack's packed/scales of W.
   y's rows are `ldy` apart; accumulate 0 overwrites y, 1 adds to it. */
void wb_int8_gemm(float *y, int ldy, const int8_t *xq, const float *xs, const float *xsum, int rows,
                  const uint8_t *packed, const uint16_t *scales, int k, int block_lo, int block_hi, int accumulate);

/* wb_int8_gemm over all `blocks` output blocks, split in `parts` contiguous ranges run at once:
   part 0 on the calling thread, the others on helper threads of this library (started at the
   first call that needs them, never stopped). A decoded token makes ~120 products of 20-200
   microseconds each; helpers that slept between them took that long again to wake (a fifth of
   decoding's time on SmolLM2), so a helper spins for about half a millisecond after each part
   before it sleeps. Meant for one calling thread at a time: a call made while another runs (or
   with parts < 2) runs every block on the calling thread instead. */
void wb_int8_gemm_parts(float *y, int ldy, const int8_t *xq, const float *xs, const float *xsum, int rows,
                        const uint8_t *packed, const uint16_t *scales, int k, int blocks, int accumulate, int parts);

#ifdef __cplusplus
}
#endif

#endif
