// gemm.comp: C[M,N] = A[M,K] B[K,N] for float32 (or float64 with -DGRD_DOUBLE).
//
// Operands are read through strides (push constants), so transposed operands
// need no copy. Each workgroup of 16x16 threads computes a (16*TM)x(16*TN)
// tile of C from BK-deep slices of A and B staged in shared memory; each
// thread keeps a TMxTN block of C in registers. TM and TN are specialization
// constants (4x4 by default, 8x8 for large float32 products).
#version 450
#ifdef GRD_DOUBLE
#define T double
#else
#define T float
#endif

layout(local_size_x = 16, local_size_y = 16) in;
layout(constant_id = 0) const uint TM = 4;
layout(constant_id = 1) const uint TN = 4;
const uint BK = 16;
const uint BM = 16 * TM;
const uint BN = 16 * TN;

layout(push_constant) uniform Push { uint p[32]; } pc;  // M N K sAm sAk sBk sBn
layout(std430, set = 0, binding = 0) readonly buffer BufA { T a[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufB { T b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufC { T c[]; };

shared T As[BM * BK];  // row-major [BM][BK]: stores conflict-free, reads broadcast
shared T Bs[BK * BN];

void main() {
  uint M = pc.p[0], N = pc.p[1], K = pc.p[2];
  uint sAm = pc.p[3], sAk = pc.p[4], sBk = pc.p[5], sBn = pc.p[6];
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint tid = ty * 16u + tx;
  uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;

  T acc[TM * TN];
  for (uint i = 0u; i < TM * TN; i++)
    acc[i] = T(0);

  for (uint k0 = 0u; k0 < K; k0 += BK) {
    // A tile, BM rows by BK: consecutive threads take consecutive k (row-major A)
    for (uint e = tid; e < BM * BK; e += 256u) {
      uint r = e / BK, kk = e % BK;
      uint gr = row0 + r, gk = k0 + kk;
      As[r * BK + kk] = (gr < M && gk < K) ? a[gr * sAm + gk * sAk] : T(0);
    }
    // B tile, BK by BN: consecutive threads take consecutive columns
    for (uint e = tid; e < BK * BN; e += 256u) {
      uint kk = e / BN, cc = e % BN;
      uint gk = k0 + kk, gc = col0 + cc;
      Bs[kk * BN + cc] = (gk < K && gc < N) ? b[gk * sBk + gc * sBn] : T(0);
    }
    barrier();
    for (uint kk = 0u; kk < BK; kk++) {
      T ar[TM], br[TN];
      for (uint i = 0u; i < TM; i++)
        ar[i] = As[(ty + i * 16u) * BK + kk];
      for (uint j = 0u; j < TN; j++)
        br[j] = Bs[kk * BN + tx + j * 16u];
      for (uint i = 0u; i < TM; i++)
        for (uint j = 0u; j < TN; j++)
          acc[i * TN + j] += ar[i] * br[j];
    }
    barrier();
  }

  for (uint i = 0u; i < TM; i++) {
    uint gr = row0 + ty + i * 16u;
    if (gr >= M)
      continue;
    for (uint j = 0u; j < TN; j++) {
      uint gc = col0 + tx + j * 16u;
      if (gc < N)
        c[gr * N + gc] = acc[i * TN + j];
    }
  }
}
