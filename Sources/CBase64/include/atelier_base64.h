// The bulk of a base64 value decoded 32 symbols at a time with AVX2 (x86-64 processors that have it, checked at run
// time); `OpenAIImages.Base64Run` calls it first and finishes the value itself.
#ifndef ATELIER_BASE64_H
#define ATELIER_BASE64_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether `atelier_base64_decode_blocks` decodes anything on this processor (AVX2); 0 means it always stops at once.
int atelier_base64_wide_available(void);

/// Decodes whole blocks of 32 plain base64 symbols ("A–Z a–z 0–9 + /") from `input` into `output`, 24 bytes per
/// block, and stops before the first block holding anything else (padding, an escape, a quote, an invalid byte),
/// before fewer than 32 symbols are left, or before `output` has fewer than 32 bytes of room (each block stores 32
/// bytes, 8 of them past its 24). Sets `*consumed` and `*written` to how far it got; both 0 without AVX2.
void atelier_base64_decode_blocks(
    const unsigned char *input, size_t input_count, unsigned char *output, size_t output_count,
    size_t *consumed, size_t *written);

#ifdef __cplusplus
}
#endif

#endif
