// Atelier's thin C shim over libvips.
//
// Swift cannot call C variadic functions or expand macros such as VIPS_INIT, so every libvips
// call that takes a NULL-terminated option list is wrapped here in a plain, fixed-arity function.
// Conventions: functions return 0 on success and -1 on failure (the libvips error buffer then
// holds the reason; fetch it with atelier_vips_error_copy). Output images are new references the
// caller must g_object_unref; output buffers must be g_free'd.
#ifndef ATELIER_VIPS_H
#define ATELIER_VIPS_H

#include <stddef.h>
#include <vips/vips.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Formats the shim loads and saves (values mirror Swift's ImageFormat order).
typedef enum {
    ATELIER_FORMAT_PNG = 0,
    ATELIER_FORMAT_JPEG = 1,
    ATELIER_FORMAT_WEBP = 2,
} AtelierFormat;

/// Starts libvips once per process (thread-safe). Also disables the operation cache
/// (buffer-backed loads must never outlive their memory) and blocks untrusted loaders.
/// Returns 0 on success.
int atelier_vips_init(void);

/// Copies and clears the libvips error buffer. Caller g_free's the result (never NULL).
char *atelier_vips_error_copy(void);

/// Reads only the header of an encoded image (no pixel decode). `orientation` is the EXIF
/// orientation (1 when absent). The buffer is only read during the call.
int atelier_probe(const void *buf, size_t len, AtelierFormat format,
                  int *width, int *height, int *bands, int *has_alpha, int *orientation);

/// Loads an encoded image with the loader for `format` only. The bytes are copied and owned by
/// the returned image, so `buf` may be released right after the call. `fail_on_truncated`
/// makes truncated/corrupt data an error instead of a grey/black fill.
int atelier_load(const void *buf, size_t len, AtelierFormat format, int fail_on_truncated, VipsImage **out);

/// Encodes `in`. quality: 1-100 for JPEG/WebP, <0 = library default (ignored for PNG).
/// png_compression: zlib level 0-9, <0 = default (6). strip: drop metadata.
int atelier_save(VipsImage *in, AtelierFormat format, int quality, int png_compression, int strip,
                 void **buf, size_t *len);

/// Thumbnail straight from encoded bytes (shrink-on-load, EXIF autorotate, never upscales),
/// fitting a box of size x size, encoded as WebP at `quality`, metadata stripped; truncated input fails.
/// The loader is forced to `format` by the caller having checked magic bytes first.
int atelier_thumbnail_webp(const void *buf, size_t len, int size, int quality, void **out_buf, size_t *out_len);
int atelier_thumbnail_webp_file(const char *path, int size, int quality, void **out_buf, size_t *out_len);

int atelier_autorot(VipsImage *in, VipsImage **out);
int atelier_get_orientation(VipsImage *in);
/// Copies `in` and sets its EXIF orientation tag (for fixtures).
int atelier_copy_with_orientation(VipsImage *in, int orientation, VipsImage **out);
/// Copies `in`, relabelling its interpretation (e.g. VIPS_INTERPRETATION_sRGB).
int atelier_copy_interpretation(VipsImage *in, VipsInterpretation interpretation, VipsImage **out);

int atelier_resize(VipsImage *in, double hscale, double vscale, VipsImage **out);
int atelier_colourspace(VipsImage *in, VipsInterpretation space, VipsImage **out);
int atelier_cast_uchar(VipsImage *in, VipsImage **out);
int atelier_extract_band(VipsImage *in, int band, int n, VipsImage **out);
int atelier_extract_area(VipsImage *in, int left, int top, int width, int height, VipsImage **out);
int atelier_embed_copy(VipsImage *in, int width, int height, VipsImage **out);
int atelier_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out);
int atelier_bandjoin_const1(VipsImage *in, double c, VipsImage **out);
int atelier_flatten(VipsImage *in, double r, double g, double b, VipsImage **out);
int atelier_black(int width, int height, int bands, VipsImage **out);
int atelier_xyz(int width, int height, VipsImage **out);
int atelier_gaussnoise(int width, int height, double sigma, double mean, int seed, VipsImage **out);
/// out = in * a + b (all bands).
int atelier_linear1(VipsImage *in, double a, double b, VipsImage **out);
/// out = recomb(in, matrix) where matrix is `rows` x `cols` doubles, row-major.
int atelier_recomb(VipsImage *in, const double *matrix, int rows, int cols, VipsImage **out);
/// 255 where in >= c, else 0 (per band, uchar).
int atelier_moreeq_const1(VipsImage *in, double c, VipsImage **out);
/// 255 where in > c, else 0 (per band, uchar).
int atelier_more_const1(VipsImage *in, double c, VipsImage **out);
int atelier_invert(VipsImage *in, VipsImage **out);
int atelier_and_const1(VipsImage *in, double c, VipsImage **out);
int atelier_and(VipsImage *a, VipsImage *b, VipsImage **out);
/// Bitwise OR across bands -> one band.
int atelier_bandor(VipsImage *in, VipsImage **out);
int atelier_subtract(VipsImage *a, VipsImage *b, VipsImage **out);
int atelier_abs(VipsImage *in, VipsImage **out);
/// Separable convolution of `in` with a symmetric 1-D kernel `coeffs[n]` (scale = sum), float
/// precision (libvips' integer path approximates coefficients), float output, same size (edges copied).
int atelier_convsep_float(VipsImage *in, const double *coeffs, int n, VipsImage **out);
/// cond ? in1 : in2, blended by cond/255 when `blend` (cond: 1-band uchar).
int atelier_ifthenelse(VipsImage *cond, VipsImage *in1, VipsImage *in2, int blend, VipsImage **out);
/// In-place drawing on a memory image (use vips_image_copy_memory first).
int atelier_draw_circle(VipsImage *image, const double *ink, int n, int cx, int cy, int radius);
int atelier_draw_rect(VipsImage *image, const double *ink, int n, int left, int top, int width, int height);

/// Header of a stored output that is a GIF (`is_svg` 0: logical size, `pages` = frames) or an SVG
/// (`is_svg` 1: its size as rendered at 72 dpi, `pages` = 1). No pixels are decoded.
int atelier_probe_output(const void *buf, size_t len, int is_svg, int *width, int *height, int *pages);

/// Joins `count` frames of the same size into an animated GIF (cgif via gifsave) that loops forever,
/// showing each frame for `delay_ms`.
int atelier_gif_animate(VipsImage **frames, int count, int delay_ms, void **buf, size_t *len);

/// Decodes the whole image into a new g_malloc'd buffer (caller g_free's it).
void *atelier_write_to_memory(VipsImage *in, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
