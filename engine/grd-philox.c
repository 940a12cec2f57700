/* grd-philox.c: Philox 4x32-10, the counter-based generator of Salmon,
 * Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3"
 * (SC 2011). The bits of a draw depend only on (key, counter), so any device
 * and any order of evaluation gives the same numbers, and a draw inside a
 * scan step is addressed by its counter. Written from the paper's definition:
 * ten rounds of two 32x32->64 multiplications, with the Weyl key schedule. */
#include "grd-internal.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void
grd_philox4x32 (const guint32 counter[4], const guint32 key[2], guint32 out[4])
{
  guint32 c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  guint32 k0 = key[0], k1 = key[1];
  for (gint round = 0; round < 10; round++) {
    guint64 p0 = (guint64) PHILOX_M0 * c0;
    guint64 p1 = (guint64) PHILOX_M1 * c2;
    guint32 n0 = (guint32) (p1 >> 32) ^ c1 ^ k0;
    guint32 n1 = (guint32) p1;
    guint32 n2 = (guint32) (p0 >> 32) ^ c3 ^ k1;
    guint32 n3 = (guint32) p0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}
