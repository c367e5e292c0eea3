#include "vector_kernels.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Chosen once, before main, so no call pays for the check and no two threads race on it. */
static int use_avx512;
__attribute__((constructor)) static void wb_vector_kernels_init(void) {
    use_avx512 = __builtin_cpu_supports("avx512f");
}

/* ---- plain C, for CPUs without AVX-512 ------------------------------------------------------ */

static inline float exp_scalar(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);  /* NaN fails both tests and stays NaN */
    float t = x * 1.4426950408889634f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.1219444005469058e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &t, 4);
    int32_t e = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &e, 4);
    return p * scale;
}

/* ---- AVX-512 F ------------------------------------------------------------------------------ */

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

static inline __m512 exp512(__m512 x) {
    /* x second: for a NaN operand max/min return their second operand, so NaN survives. */
    x = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.0f), x));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.4426950408889634f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.1219444005469058e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000)),
                                                   _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static inline __mmask16 tail_mask(long left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1); }

static void swiglu_forward_512(float *h, const float *gate, const float *up, long n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
        __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_mask_storeu_ps(h + i, m, _mm512_mul_ps(s, u));
    }
}

static void swiglu_backward_512(float *dgate, float *dup, const float *dh, const float *gate, const float *up, long n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i), d = _mm512_maskz_loadu_ps(m, dh + i);
        __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        __m512 dg = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, u), s), _mm512_fmadd_ps(g, _mm512_sub_ps(one, s), one));
        _mm512_mask_storeu_ps(dgate + i, m, dg);
        _mm512_mask_storeu_ps(dup + i, m, _mm512_mul_ps(_mm512_mul_ps(d, g), s));
    }
}

static float exp_shift_sum_512(float *a, long n, float shift) {
    __m512 acc = _mm512_setzero_ps();
    const __m512 sh = _mm512_set1_ps(shift);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), sh));
        _mm512_mask_storeu_ps(a + i, m, e);
        acc = _mm512_mask_add_ps(acc, m, acc, e);
    }
    return _mm512_reduce_add_ps(acc);
}

static float max_512(const float *a, long n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        /* a second: a NaN element leaves the running maximum as it was. */
        mx = _mm512_mask_max_ps(mx, m, _mm512_maskz_loadu_ps(m, a + i), mx);
    }
    return _mm512_reduce_max_ps(mx);
}

/* Dot products of q with `span` keys hd apart: s[p] = scale * <q, k_p>. */
static void scores_512(float *s, const float *q, const float *k, long span, long hd, float scale) {
    if (hd <= 64) {
        /* The query stays in registers (up to four vectors) while the keys stream past. */
        __m512 qv[4];
        __mmask16 qm[4];
        long nv = (hd + 15) / 16;
        for (long j = 0; j < nv; j++) { qm[j] = tail_mask(hd - 16 * j); qv[j] = _mm512_maskz_loadu_ps(qm[j], q + 16 * j); }
        for (long p = 0; p < span; p++) {
            const float *kp = k + p * hd;
            __m512 acc = _mm512_mul_ps(qv[0], _mm512_maskz_loadu_ps(qm[0], kp));
            for (long j = 1; j < nv; j++) acc = _mm512_fmadd_ps(qv[j], _mm512_maskz_loadu_ps(qm[j], kp + 16 * j), acc);
            s[p] = scale * _mm512_reduce_add_ps(acc);
        }
        return;
    }
    for (long p = 0; p < span; p++) {
        const float *kp = k + p * hd;
        __m512 acc = _mm512_setzero_ps();
        for (long d = 0; d < hd; d += 16) {
            __mmask16 m = tail_mask(hd - d);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + d), _mm512_maskz_loadu_ps(m, kp + d), acc);
        }
        s[p] = scale * _mm512_reduce_add_ps(acc);
    }
}

/* out[0..hd) = (sum_p w[p] * v_p) * inv, 64 columns at a time so the sums stay in registers. */
static void weighted_sum_512(float *out, const float *w, const float *v, long span, long hd, float inv) {
    for (long d0 = 0; d0 < hd; d0 += 64) {
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        __mmask16 m[4];
        long nv = (hd - d0 + 15) / 16;
        if (nv > 4) nv = 4;
        for (long j = 0; j < nv; j++) m[j] = tail_mask(hd - d0 - 16 * j);
        for (long p = 0; p < span; p++) {
            const float *vp = v + p * hd + d0;
            __m512 wp = _mm512_set1_ps(w[p]);
            for (long j = 0; j < nv; j++) acc[j] = _mm512_fmadd_ps(wp, _mm512_maskz_loadu_ps(m[j], vp + 16 * j), acc[j]);
        }
        const __m512 iv = _mm512_set1_ps(inv);
        for (long j = 0; j < nv; j++) _mm512_mask_storeu_ps(out + d0 + 16 * j, m[j], _mm512_mul_ps(acc[j], iv));
    }
}

static void attend_512(float *out, float *scores, const float *q, const float *k, const float *v,
                       long group, long span, long hd, float scale) {
    for (long r = 0; r < group; r++) {
        scores_512(scores, q + r * hd, k, span, hd, scale);
        float sum = exp_shift_sum_512(scores, span, max_512(scores, span));
        weighted_sum_512(out + r * hd, scores, v, span, hd, 1.0f / sum);
    }
}

#pragma clang attribute pop

/* ---- the entry points ------------------------------------------------------------------------ */

void wb_swiglu_forward(float *h, const float *gate, const float *up, long n) {
    if (use_avx512) { swiglu_forward_512(h, gate, up, n); return; }
    for (long i = 0; i < n; i++) { float g = gate[i]; h[i] = g / (1.0f + exp_scalar(-g)) * up[i]; }
}

void wb_swiglu_backward(float *dgate, float *dup, const float *dh, const float *gate, const float *up, long n) {
    if (use_avx512) { swiglu_backward_512(dgate, dup, dh, gate, up, n); return; }
    for (long i = 0; i < n; i++) {
        float g = gate[i], s = 1.0f / (1.0f + exp_scalar(-g));
        dgate[i] = dh[i] * up[i] * s * (1.0f + g * (1.0f - s));
        dup[i] = dh[i] * g * s;
    }
}

float wb_exp_shift_sum(float *a, long n, float shift) {
    if (use_avx512) return exp_shift_sum_512(a, n, shift);
    float s = 0.0f;
    for (long i = 0; i < n; i++) { a[i] = exp_scalar(a[i] - shift); s += a[i]; }
    return s;
}

float wb_max(const float *a, long n) {
    if (use_avx512) return max_512(a, n);
    float m = -INFINITY;
    for (long i = 0; i < n; i++) m = a[i] > m ? a[i] : m;
    return m;
}

void wb_attend(float *out, float *scores, const float *q, const float *k, const float *v,
               long group, long span, long hd, float scale) {
    if (use_avx512) { attend_512(out, scores, q, k, v, group, span, hd, scale); return; }
    for (long r = 0; r < group; r++) {
        const float *qr = q + r * hd;
        for (long p = 0; p < span; p++) {
            float acc = 0.0f;
            for (long d = 0; d < hd; d++) acc += qr[d] * k[p * hd + d];
            scores[p] = scale * acc;
        }
        float sum = wb_exp_shift_sum(scores, span, wb_max(scores, span)), inv = 1.0f / sum;
        float *o = out + r * hd;
        for (long d = 0; d < hd; d++) o[d] = 0.0f;
        for (long p = 0; p < span; p++) for (long d = 0; d < hd; d++) o[d] += scores[p] * v[p * hd + d];
        for (long d = 0; d < hd; d++) o[d] *= inv;
    }
}
