// The published set's element expansion (HavenTrust's PublishedSetDigest) with the x86-64 SHA
// instructions: 64 one-block SHA-256 hashes per record. Through swift-crypto each hash cost
// about half a microsecond, most of it allocation around a 50 ns compression; this is the
// compression alone. Any other processor returns 0 and HavenTrust computes the element itself.
// The rounds follow Intel's SHA extensions reference (as in Jeffrey Walton's public-domain
// sha256-x86.c); TrustTests hold the result to swift-crypto's SHA-256 on random seeds.

#include "CLtHash.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t IV[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/// 1 with SHA-NI (and the SSSE3 and SSE4.1 it needs), 0 without; asked once, as CPUID can
/// cost a trip to the hypervisor.
static int has_sha_instructions(void) {
    static int known = -1;
    int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (answer >= 0) return answer;
    unsigned a, b, c, d;
    answer = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19))
        && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29))) {
        answer = 1;
    }
    __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
    return answer;
}

__attribute__((target("sha,sse4.1,ssse3")))
static void expand(const uint8_t *seed, uint16_t *lanes, int subtract) {
    // Each 32-bit word's bytes reversed: message words and the digest are big-endian.
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    // The initial state in the order the instructions want: ABEF and CDGH.
    __m128i abcd = _mm_loadu_si128((const __m128i *)&IV[0]);
    __m128i efgh = _mm_loadu_si128((const __m128i *)&IV[4]);
    abcd = _mm_shuffle_epi32(abcd, 0xB1);
    efgh = _mm_shuffle_epi32(efgh, 0x1B);
    const __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);
    const __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);

    // The one padded block: seed, counter, 0x80, zeros, the length in bits (36 × 8 = 288).
    uint8_t block[64] = {0};
    memcpy(block, seed, 32);
    block[36] = 0x80;
    block[62] = 0x01;
    block[63] = 0x20;
    const __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)&block[0]), swap);
    const __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)&block[16]), swap);
    const __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)&block[48]), swap);

    for (uint32_t counter = 0; counter < 64; counter++) {
        block[32] = (uint8_t)(counter >> 24);
        block[33] = (uint8_t)(counter >> 16);
        block[34] = (uint8_t)(counter >> 8);
        block[35] = (uint8_t)counter;
        __m128i w[16];
        w[0] = w0;
        w[1] = w1;
        w[2] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)&block[32]), swap);
        w[3] = w3;
        for (int i = 4; i < 16; i++) {
            const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]), _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
            w[i] = _mm_sha256msg2_epu32(partial, w[i - 1]);
        }
        __m128i state0 = abef;
        __m128i state1 = cdgh;
        for (int i = 0; i < 16; i++) {
            __m128i message = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)&K[4 * i]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, message);
            message = _mm_shuffle_epi32(message, 0x0E);
            state0 = _mm_sha256rnds2_epu32(state0, state1, message);
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);

        // Back to ABCD and EFGH, then to the digest's bytes: 16 little-endian lanes.
        const __m128i feba = _mm_shuffle_epi32(state0, 0x1B);
        const __m128i dchg = _mm_shuffle_epi32(state1, 0xB1);
        const __m128i low = _mm_shuffle_epi8(_mm_blend_epi16(feba, dchg, 0xF0), swap);
        const __m128i high = _mm_shuffle_epi8(_mm_alignr_epi8(dchg, feba, 8), swap);

        __m128i *target = (__m128i *)&lanes[16 * counter];
        const __m128i first = _mm_loadu_si128(target);
        const __m128i second = _mm_loadu_si128(target + 1);
        _mm_storeu_si128(target, subtract ? _mm_sub_epi16(first, low) : _mm_add_epi16(first, low));
        _mm_storeu_si128(target + 1, subtract ? _mm_sub_epi16(second, high) : _mm_add_epi16(second, high));
    }
}

int haven_lthash_apply(const uint8_t *seed, uint16_t *lanes, int subtract) {
    if (!has_sha_instructions()) return 0;
    expand(seed, lanes, subtract);
    return 1;
}

#else

int haven_lthash_apply(const uint8_t *seed, uint16_t *lanes, int subtract) {
    (void)seed;
    (void)lanes;
    (void)subtract;
    return 0;
}

#endif
