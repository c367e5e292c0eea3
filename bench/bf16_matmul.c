// Which library multiplies by a frozen bf16 weight fastest on this CPU: OpenBLAS's float32
// sgemm (what the engine uses today), oneDNN's float32 matmul, and oneDNN's matmul with bf16
// weights packed once (activations converted to bf16 on every call, the conversion timed in),
// on the shapes of SmolLM2-135M's linear maps. Prints one table; built and run by bf16_matmul.sh.
//
// y[n × out] = x[n × in] · Wᵀ, W [out × in] row-major as the engine stores it.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    fprintf(stderr, "%s failed: %d\n", #call, (int)s_); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static float *randoms(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof(float));
    srand(seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
    return p;
}

// One oneDNN matmul y = x · Wᵀ with x and W of type `dt`, y float32; W reordered once into the
// layout the primitive prefers (what packing a frozen weight at load time would do).
typedef struct {
    dnnl_primitive_t mm, xconv;  // xconv: float32 x → dt x (NULL for float32)
    dnnl_memory_t x32, x, w, y;
} Matmul;

static Matmul matmul_make(dnnl_engine_t eng, dnnl_stream_t st, dnnl_data_type_t dt, int packed, int n, int in, int out,
                          float *x32, float *w32, float *y) {
    Matmul m = {0};
    dnnl_memory_desc_t xd, wd_any, wd_plain32, yd, x32d;
    dnnl_dims_t xdims = {n, in}, wdims = {in, out}, ydims = {n, out};
    CHECK(dnnl_memory_desc_init_by_tag(&x32d, 2, xdims, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&xd, 2, xdims, dt, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&wd_any, 2, wdims, dt, packed ? dnnl_format_tag_any : dnnl_ba));
    CHECK(dnnl_memory_desc_init_by_tag(&wd_plain32, 2, wdims, dnnl_f32, dnnl_ba));  // W [out × in] is Wᵀ's "ba"
    CHECK(dnnl_memory_desc_init_by_tag(&yd, 2, ydims, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &xd, &wd_any, NULL, &yd));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL));
    CHECK(dnnl_primitive_create(&m.mm, pd));
    const dnnl_memory_desc_t *wd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    // Pack W once: float32 plain → the primitive's layout and type.
    dnnl_memory_t w32m;
    CHECK(dnnl_memory_create(&w32m, &wd_plain32, eng, w32));
    CHECK(dnnl_memory_create(&m.w, wd, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd; dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wd_plain32, eng, wd, eng, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, w32m}, {DNNL_ARG_TO, m.w}};
    CHECK(dnnl_primitive_execute(r, st, 2, rargs));
    CHECK(dnnl_stream_wait(st));
    CHECK(dnnl_memory_create(&m.x32, &x32d, eng, x32));
    CHECK(dnnl_memory_create(&m.y, &yd, eng, y));
    if (dt == dnnl_f32) {
        m.x = m.x32;
    } else {
        CHECK(dnnl_memory_create(&m.x, &xd, eng, DNNL_MEMORY_ALLOCATE));
        dnnl_primitive_desc_t xpd;
        CHECK(dnnl_reorder_primitive_desc_create(&xpd, &x32d, eng, &xd, eng, NULL));
        CHECK(dnnl_primitive_create(&m.xconv, xpd));
    }
    return m;
}

static void matmul_run(Matmul *m, dnnl_stream_t st) {
    if (m->xconv) {
        dnnl_exec_arg_t c[2] = {{DNNL_ARG_FROM, m->x32}, {DNNL_ARG_TO, m->x}};
        CHECK(dnnl_primitive_execute(m->xconv, st, 2, c));
    }
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, m->x}, {DNNL_ARG_WEIGHTS, m->w}, {DNNL_ARG_DST, m->y}};
    CHECK(dnnl_primitive_execute(m->mm, st, 3, a));
    CHECK(dnnl_stream_wait(st));
}

// Median of `reps` timings of f, after one warm-up call.
#define TIME(reps, stmt) ({ double ts_[64]; stmt; for (int r_ = 0; r_ < (reps); r_++) { double t0_ = now(); stmt; ts_[r_] = now() - t0_; } \
    for (int i_ = 1; i_ < (reps); i_++) for (int j_ = i_; j_ > 0 && ts_[j_] < ts_[j_ - 1]; j_--) { double s_ = ts_[j_]; ts_[j_] = ts_[j_ - 1]; ts_[j_ - 1] = s_; } \
    ts_[(reps) / 2]; })

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    openblas_set_num_threads(threads);
    dnnl_engine_t eng; dnnl_stream_t st;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    // SmolLM2-135M: dim 576, ffn 1536, kv 192, vocab 49152; rows: a training mini-batch
    // (8 sequences × 256 tokens), a 64-row rollout step, one decoded token.
    struct { const char *what; int n, in, out; } shapes[] = {
        {"up/gate, training 2048 rows", 2048, 576, 1536},
        {"down, training 2048 rows", 2048, 1536, 576},
        {"k/v, training 2048 rows", 2048, 576, 192},
        {"up/gate, 64-row rollout step", 64, 576, 1536},
        {"up/gate, one decoded token", 1, 576, 1536},
        {"output head, one decoded token", 1, 576, 49152},
        // Decoding's fused products (q/k/v 960 outputs, gate/up 3072) at 1, 16 and 64 rows.
        {"q/k/v fused, one decoded token", 1, 576, 960},
        {"gate/up fused, one decoded token", 1, 576, 3072},
        {"gate/up fused, 16 rows", 16, 576, 3072},
        {"gate/up fused, 64 rows", 64, 576, 3072},
        {"output head, 64 rows", 64, 576, 49152},
    };
    printf("threads %d; median of 15 calls; GFLOP/s (2·n·in·out / time)\n\n", threads);
    printf("| shape (n × in → out) | OpenBLAS sgemm f32 | oneDNN f32 | oneDNN bf16, W packed | oneDNN bf16, W plain | packed / sgemm | plain / sgemm | max |Δ| bf16 vs f32 (relative to max |y|) |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int n = shapes[s].n, in = shapes[s].in, out = shapes[s].out;
        float *x = randoms((size_t)n * in, 1), *w = randoms((size_t)out * in, 2);
        float *y0 = calloc((size_t)n * out, 4), *y1 = calloc((size_t)n * out, 4), *y2 = calloc((size_t)n * out, 4);
        int reps = 15;
        double tb = TIME(reps, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1, x, in, w, in, 0, y0, out));
        Matmul mf = matmul_make(eng, st, dnnl_f32, 1, n, in, out, x, w, y1);
        double tf = TIME(reps, matmul_run(&mf, st));
        Matmul mh = matmul_make(eng, st, dnnl_bf16, 1, n, in, out, x, w, y2);
        double th = TIME(reps, matmul_run(&mh, st));
        Matmul mp = matmul_make(eng, st, dnnl_bf16, 0, n, in, out, x, w, y1);
        double tp = TIME(reps, matmul_run(&mp, st));
        double flop = 2.0 * n * in * out, dmax = 0, ymax = 0;
        for (size_t i = 0; i < (size_t)n * out; i++) {
            dmax = fmax(dmax, fabs(y2[i] - y0[i]));
            ymax = fmax(ymax, fabs(y0[i]));
        }
        printf("| %s (%d × %d → %d) | %.1f | %.1f | %.1f | %.1f | %.2f× | %.2f× | %.1e |\n", shapes[s].what, n, in, out,
               flop / tb * 1e-9, flop / tf * 1e-9, flop / th * 1e-9, flop / tp * 1e-9, tb / th, tb / tp, dmax / ymax);
        free(x); free(w); free(y0); free(y1); free(y2);
    }
    return 0;
}
