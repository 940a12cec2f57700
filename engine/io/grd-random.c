/* grd-random.c: xoshiro256** seeded by splitmix64: the reproducible generator
 * behind init values and shuffled minibatches. Same seed, same numbers, on
 * every machine. */
#include "../grd-internal.h"

#include <math.h>

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
grd_random_seed (GrdRandom *rng, guint64 seed)
{
  for (gint i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&seed);
}

static inline guint64
rotl (guint64 x, gint k)
{
  return (x << k) | (x >> (64 - k));
}

guint64
grd_random_next (GrdRandom *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
grd_random_uniform (GrdRandom *rng)
{
  return (grd_random_next (rng) >> 11) * 0x1.0p-53;
}

double
grd_random_normal (GrdRandom *rng)
{
  /* Box-Muller; one draw per call keeps the stream simple to reproduce. */
  double u1 = grd_random_uniform (rng), u2 = grd_random_uniform (rng);
  return sqrt (-2.0 * log1p (-u1)) * cos (2.0 * G_PI * u2);
}
