#include "int8_kernels.h"

#include <immintrin.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

int wb_int8_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
}

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vnni,f16c"))), apply_to = function)

/* The step of the grid 32 values lie on, when they came from a GGUF block (a 4-, 5- or 8-bit
   block of 32 is d * q + m) and fit 256 levels of it: the greatest common divisor of their
   distances from the least, to float32's rounding. 0 when they lie on no such grid. */
static int on_grid(const float *v, float lo, float g) {
    const float inv = 1 / g;
    float worst = 0;
    for (int i = 0; i < 32; i++) {
        float q = (v[i] - lo) * inv, e = fabsf(q - nearbyintf(q));
        worst = e > worst ? e : worst;
    }
    return worst <= 1e-3f;
}

static float grid_step(const float *v, float lo, float hi) {
    const float range = hi - lo, eps = range * 1e-5f;
    // Usually the least distance is the step (a 4-bit block of 32 holds most of its 16 levels):
    // tried first, it spares most blocks Euclid's loop, which made loading SmolLM2 ~2 s slower.
    float least = range;
    for (int i = 0; i < 32; i++) {
        float a = v[i] - lo;
        if (a > eps && a < least) least = a;
    }
    if (least > eps && range / least <= 255.5f && on_grid(v, lo, least)) return least;
    float g = 0;
    for (int i = 0; i < 32; i++) {
        float a = v[i] - lo;
        if (a <= eps) continue;
        if (g == 0) { g = a; continue; }
        float b = a < g ? a : g;
        a = a < g ? g : a;
        while (b > eps) {  /* Euclid's algorithm, remainders within eps of 0 or b counted as 0 */
            float r = a - b * floorf(a / b);
            if (r > b - eps || r < eps) r = 0;
            a = b;
            b = r;
        }
        g = a;
        if (range / g > 255.5f) return 0;
    }
    return g > 0 && on_grid(v, lo, g) ? g : 0;
}

int wb_int8_pack(uint8_t *packed, uint16_t *scales, const float *w, int n, int k) {
    const int nb = k / 32;
    for (int row = 0; row < n; row++) {
        uint8_t *dst = packed + (size_t)(row / 16) * 16 * k + (row % 16) * 4;
        uint16_t *sc = scales + (size_t)(row / 16) * nb * 32 + row % 16;
        for (int j = 0; j < nb; j++) {
            const float *v = w + (size_t)row * k + 32 * j;
            float lo = v[0], hi = v[0];
            for (int i = 0; i < 32; i++) {
                if (!isfinite(v[i]) || fabsf(v[i]) > 65000) return 1;
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
            // The values' own grid when they have one (a GGUF block's levels are kept), else
            // 256 levels from the least to the greatest. d and m are rounded to fp16 first
            // and the values rounded against them, so the levels are those the product uses.
            // Off a grid, m rounds down and d up, so the 256 levels still reach the greatest
            // value (d may be an fp16 subnormal, coarse relative to itself, for a tiny range).
            float step = grid_step(v, lo, hi);
            uint16_t m16 = step > 0 ? _cvtss_sh(lo, _MM_FROUND_TO_NEAREST_INT) : _cvtss_sh(lo, _MM_FROUND_TO_NEG_INF);
            float m = _cvtsh_ss(m16);
            uint16_t d16 = step > 0 ? _cvtss_sh(step, _MM_FROUND_TO_NEAREST_INT) : _cvtss_sh((hi - m) / 255, _MM_FROUND_TO_POS_INF);
            float d = _cvtsh_ss(d16), inv = d > 0 ? 1 / d : 0;
            if (!isfinite(d)) return 1;  /* a range beyond fp16's */
            sc[(size_t)j * 32] = d16;
            sc[(size_t)j * 32 + 16] = m16;
            for (int i = 0; i < 32; i++) {
                float u = nearbyintf((v[i] - m) * inv);
                dst[(size_t)(8 * j + i / 4) * 64 + i % 4] = (uint8_t)(u < 0 ? 0 : u > 255 ? 255 : u);
            }
        }
    }
    return 0;
}

void wb_int8_quantize(int8_t *xq, float *xs, float *xsum, const float *x, int ldx, int rows, int k) {
    const int nb = k / 32;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        int8_t *hi = xq + (size_t)r * 2 * k, *lo = hi + k;
        float *s = xs + (size_t)r * nb, *sum = xsum + (size_t)r * nb;
        for (int b = 0; b < nb; b++) {
            __m512 v0 = _mm512_loadu_ps(xr + 32 * b), v1 = _mm512_loadu_ps(xr + 32 * b + 16);
            __mmask16 bad = _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            if (bad || isinf(amax)) {
                s[b] = sum[b] = NAN;
                _mm256_storeu_si256((__m256i *)(hi + 32 * b), _mm256_setzero_si256());
                _mm256_storeu_si256((__m256i *)(lo + 32 * b), _mm256_setzero_si256());
                continue;
            }
            // hi = round(x / step), step = amax / 127; lo = round(the remainder / (step / 254)).
            // Both within [-127, 127] up to rounding, which the clamps remove. Rounding is to
            // nearest even (the default mode).
            float step = amax / 127, inv = amax > FLT_MIN ? 127 / amax : 0, invLo = 254 * inv;  /* below FLT_MIN, 127 / amax overflows */
            __m512i h0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(inv)));
            __m512i h1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(inv)));
            const __m512i lim = _mm512_set1_epi32(127), neg = _mm512_set1_epi32(-127);
            h0 = _mm512_min_epi32(_mm512_max_epi32(h0, neg), lim);
            h1 = _mm512_min_epi32(_mm512_max_epi32(h1, neg), lim);
            __m512 r0 = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(h0), _mm512_set1_ps(step), v0);
            __m512 r1 = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(h1), _mm512_set1_ps(step), v1);
            __m512i l0 = _mm512_cvtps_epi32(_mm512_mul_ps(r0, _mm512_set1_ps(invLo)));
            __m512i l1 = _mm512_cvtps_epi32(_mm512_mul_ps(r1, _mm512_set1_ps(invLo)));
            l0 = _mm512_min_epi32(_mm512_max_epi32(l0, neg), lim);
            l1 = _mm512_min_epi32(_mm512_max_epi32(l1, neg), lim);
            _mm_storeu_si128((__m128i *)(hi + 32 * b), _mm512_cvtsepi32_epi8(h0));
            _mm_storeu_si128((__m128i *)(hi + 32 * b + 16), _mm512_cvtsepi32_epi8(h1));
            _mm_storeu_si128((__m128i *)(lo + 32 * b), _mm512_cvtsepi32_epi8(l0));
            _mm_storeu_si128((__m128i *)(lo + 32 * b + 16), _mm512_cvtsepi32_epi8(l1));
            s[b] = step / 254;
            float sumHi = (float)_mm512_reduce_add_epi32(_mm512_add_epi32(h0, h1));
            float sumLo = (float)_mm512_reduce_add_epi32(_mm512_add_epi32(l0, l1));
            sum[b] = s[b] * (254 * sumHi + sumLo);
        }
    }
}

/* One output block of 16 rows for R input rows at once: the block's weights (16k bytes, in
   L1/L2) are read once per R rows, and each weight load feeds both parts of every row's input.
   Per 32 inputs, the exact int32 sums go to float:
   x . w over the block = xs * d * (254 * sum(hi * u) + sum(lo * u)) + m * xsum. */
#define ROWS_KERNEL(R)                                                                              \
    static inline void rows##R(float *y, int ldy, const int8_t *xq, const float *xs,               \
                               const float *xsum, const uint8_t *wb, const uint16_t *sb, int k,    \
                               int accumulate) {                                                    \
        const int nb = k / 32;                                                                      \
        __m512 f[R];                                                                                \
        for (int r = 0; r < R; r++) f[r] = _mm512_setzero_ps();                                    \
        for (int j = 0; j < nb; j++) {                                                              \
            __m512i a[R], b[R];                                                                     \
            for (int r = 0; r < R; r++) a[r] = b[r] = _mm512_setzero_si512();                      \
            const uint8_t *p = wb + (size_t)j * 512;                                                \
            for (int t = 0; t < 8; t++) {                                                           \
                __m512i wv = _mm512_loadu_si512(p + 64 * t);                                        \
                for (int r = 0; r < R; r++) {                                                       \
                    int32_t h, l;                                                                   \
                    __builtin_memcpy(&h, xq + (size_t)r * 2 * k + 32 * j + 4 * t, 4);               \
                    __builtin_memcpy(&l, xq + (size_t)r * 2 * k + k + 32 * j + 4 * t, 4);           \
                    a[r] = _mm512_dpbusd_epi32(a[r], wv, _mm512_set1_epi32(h));                     \
                    b[r] = _mm512_dpbusd_epi32(b[r], wv, _mm512_set1_epi32(l));                     \
                }                                                                                   \
            }                                                                                       \
            __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sb + (size_t)j * 32)));      \
            __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sb + (size_t)j * 32 + 16))); \
            for (int r = 0; r < R; r++) {                                                           \
                const size_t at = (size_t)r * nb + j;                                               \
                __m512 sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[r]), _mm512_set1_ps(254), _mm512_cvtepi32_ps(b[r])); \
                f[r] = _mm512_fmadd_ps(m, _mm512_set1_ps(xsum[at]), f[r]);                          \
                f[r] = _mm512_fmadd_ps(sum, _mm512_mul_ps(d, _mm512_set1_ps(xs[at])), f[r]);        \
            }                                                                                       \
        }                                                                                           \
        for (int r = 0; r < R; r++) {                                                               \
            __m512 v = f[r];                                                                        \
            if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(y + (size_t)r * ldy));             \
            _mm512_storeu_ps(y + (size_t)r * ldy, v);                                               \
        }                                                                                           \
    }
ROWS_KERNEL(1)
ROWS_KERNEL(2)
ROWS_KERNEL(3)
ROWS_KERNEL(4)
ROWS_KERNEL(5)
ROWS_KERNEL(6)
ROWS_KERNEL(7)
ROWS_KERNEL(8)

void wb_int8_gemm(float *y, int ldy, const int8_t *xq, const float *xs, const float *xsum, int rows,
                  const uint8_t *packed, const uint16_t *scales, int k, int block_lo, int block_hi, int accumulate) {
    const int nb = k / 32;
    for (int b = block_lo; b < block_hi; b++) {
        const uint8_t *wb = packed + (size_t)b * 16 * k;
        const uint16_t *sb = scales + (size_t)b * nb * 32;
        for (int r0 = 0; r0 < rows; r0 += 8) {
            float *yr = y + (size_t)r0 * ldy + 16 * b;
            const int8_t *q = xq + (size_t)r0 * 2 * k;
            const float *s = xs + (size_t)r0 * nb, *sum = xsum + (size_t)r0 * nb;
            switch (rows - r0 < 8 ? rows - r0 : 8) {
            case 1: rows1(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 2: rows2(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 3: rows3(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 4: rows4(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 5: rows5(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 6: rows6(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            case 7: rows7(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            default: rows8(yr, ldy, q, s, sum, wb, sb, k, accumulate); break;
            }
        }
    }
}

#pragma clang attribute pop

/* ---- helper threads for wb_int8_gemm_parts ---- */

enum { MAX_HELPERS = 63, SPINS = 20000 };

static struct {
    float *y; int ldy; const int8_t *xq; const float *xs; const float *xsum; int rows;
    const uint8_t *packed; const uint16_t *scales; int k; int blocks; int accumulate; int parts;
} job;
static atomic_uint generation;      /* bumped once per product; helpers run part id of each */
static atomic_int remaining;        /* helpers yet to finish the current product (all of them,
                                       with a part or not, so none reads `job` once it returns) */
static unsigned born[MAX_HELPERS + 1]; /* the generation each helper was started at */
static atomic_int sleepers;         /* helpers waiting on `wake` */
static atomic_flag busy = ATOMIC_FLAG_INIT;
static int started;                 /* helpers running (only the calling thread changes it) */
static int cannot_start;            /* pthread_create failed once: make do with `started` */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

static void run_part(int part) {
    int lo = job.blocks * part / job.parts, hi = job.blocks * (part + 1) / job.parts;
    wb_int8_gemm(job.y, job.ldy, job.xq, job.xs, job.xsum, job.rows, job.packed, job.scales, job.k, lo, hi, job.accumulate);
}

static void *helper(void *arg) {
    const int part = (int)(intptr_t)arg;
    unsigned seen = born[part];
    for (;;) {
        unsigned now;
        int spins = 0;
        while ((now = atomic_load(&generation)) == seen) {
            if (++spins < SPINS) {
                _mm_pause();
                continue;
            }
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
            spins = 0;
        }
        seen = now;
        if (part < job.parts) run_part(part);  /* a product split in fewer parts leaves this helper out */
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
    }
    return NULL;
}

void wb_int8_gemm_parts(float *y, int ldy, const int8_t *xq, const float *xs, const float *xsum, int rows,
                        const uint8_t *packed, const uint16_t *scales, int k, int blocks, int accumulate, int parts) {
    if (parts > MAX_HELPERS + 1) parts = MAX_HELPERS + 1;
    if (parts > blocks) parts = blocks;
    if (parts < 2 || atomic_flag_test_and_set(&busy)) {
        wb_int8_gemm(y, ldy, xq, xs, xsum, rows, packed, scales, k, 0, blocks, accumulate);
        return;
    }
    while (started < parts - 1 && !cannot_start) {
        pthread_t t;
        born[started + 1] = atomic_load(&generation);
        if (pthread_create(&t, NULL, helper, (void *)(intptr_t)(started + 1)) != 0) { cannot_start = 1; break; }
        pthread_detach(t);
        started++;
    }
    if (started < parts - 1) parts = started + 1;
    if (parts < 2) {
        wb_int8_gemm(y, ldy, xq, xs, xsum, rows, packed, scales, k, 0, blocks, accumulate);
        atomic_flag_clear(&busy);
        return;
    }
    job.y = y; job.ldy = ldy; job.xq = xq; job.xs = xs; job.xsum = xsum; job.rows = rows;
    job.packed = packed; job.scales = scales; job.k = k; job.blocks = blocks; job.accumulate = accumulate; job.parts = parts;
    atomic_store_explicit(&remaining, started, memory_order_relaxed);
    atomic_fetch_add(&generation, 1);  /* seq_cst, as `sleepers`: a helper going to sleep and this bump must not miss each other */
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    run_part(0);
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) _mm_pause();
    atomic_flag_clear(&busy);
}
