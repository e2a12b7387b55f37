#ifndef HAVEN_CLTHASH_H
#define HAVEN_CLTHASH_H

#include <stdint.h>

/// Adds to `lanes` (1024 lanes of 16 bits, wrapping), or subtracts from them when `subtract`
/// is not 0, the published-set element expanded from a 32-byte `seed`: block i of the element
/// is SHA-256(seed || i as 4 bytes big-endian), i from 0 to 63, read as little-endian lanes.
///
/// Returns 1 when done, 0 when this processor has no SHA instructions (x86-64 SHA-NI): the
/// caller then computes the element itself (HavenTrust's portable path, which this matches
/// bit for bit).
int haven_lthash_apply(const uint8_t *seed, uint16_t *lanes, int subtract);

#endif
