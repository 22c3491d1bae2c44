// AVX2 base64 decoding after W. Muła and D. Lemire, "Faster Base64 Encoding and Decoding Using AVX2 Instructions"
// (ACM TWEB 2018), with the nibble-table validation of aklomp/base64's AVX2 codec.
#include "atelier_base64.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// No cached answer (a static written by whichever thread asks first would be a data race): `__builtin_cpu_init` only
// reads what the runtime found at start-up once it has run, and Swift keeps the answer in a `static let`.
int atelier_base64_wide_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

__attribute__((target("avx2")))
static size_t decode_avx2(const unsigned char *input, size_t input_count, unsigned char *output, size_t output_count,
                          size_t *written_out) {
    // A byte is invalid when its low-nibble class and its high-nibble class share a bit.
    const __m256i lut_lo = _mm256_setr_epi8(
        0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A,
        0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
    const __m256i lut_hi = _mm256_setr_epi8(
        0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
        0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    // What to add to a valid symbol, by its high nibble ("/" one below its nibble's): its 6 bits.
    const __m256i lut_roll = _mm256_setr_epi8(
        0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i slash = _mm256_set1_epi8(0x2F);
    const __m256i pack_pairs = _mm256_set1_epi32(0x01400140);  // a << 6 | b
    const __m256i pack_quads = _mm256_set1_epi32(0x00011000);  // ab << 12 | cd
    const __m256i order = _mm256_setr_epi8(
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    size_t index = 0, written = 0;
    while (index + 32 <= input_count && written + 32 <= output_count) {
        __m256i symbols = _mm256_loadu_si256((const __m256i *)(input + index));
        const __m256i high = _mm256_and_si256(_mm256_srli_epi32(symbols, 4), nibble);
        const __m256i low = _mm256_and_si256(symbols, nibble);
        // Bytes >= 0x80 have a high nibble of 8–F, a class every low nibble shares.
        if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, low), _mm256_shuffle_epi8(lut_hi, high))) break;
        const __m256i roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(symbols, slash), high));
        symbols = _mm256_add_epi8(symbols, roll);
        __m256i bytes = _mm256_madd_epi16(_mm256_maddubs_epi16(symbols, pack_pairs), pack_quads);
        bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, order), lanes);
        _mm256_storeu_si256((__m256i *)(output + written), bytes);
        index += 32;
        written += 24;
    }
    *written_out = written;
    return index;
}

void atelier_base64_decode_blocks(
    const unsigned char *input, size_t input_count, unsigned char *output, size_t output_count,
    size_t *consumed, size_t *written) {
    *consumed = 0;
    *written = 0;
    if (!atelier_base64_wide_available()) return;
    *consumed = decode_avx2(input, input_count, output, output_count, written);
}

#else

int atelier_base64_wide_available(void) { return 0; }

void atelier_base64_decode_blocks(
    const unsigned char *input, size_t input_count, unsigned char *output, size_t output_count,
    size_t *consumed, size_t *written) {
    (void)input; (void)input_count; (void)output; (void)output_count;
    *consumed = 0;
    *written = 0;
}

#endif
