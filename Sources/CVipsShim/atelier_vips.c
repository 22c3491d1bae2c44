// Fixed-arity wrappers over libvips' variadic API. See include/atelier_vips.h.
#include "atelier_vips.h"

#include <string.h>

static int atelier_init_result = -1;

static gpointer atelier_do_init(gpointer unused) {
    (void)unused;
    // VIPS_INIT checks the header/library ABI match, then calls vips_init.
    if (VIPS_INIT("atelier") != 0) {
        atelier_init_result = -1;
        return NULL;
    }
    // Buffer loaders reference caller memory; a cached operation could outlive it. The gateway
    // never repeats identical operations anyway, so the cache only costs memory.
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    // Refuse loaders libvips marks as unsafe for untrusted input (we call explicit loaders anyway).
    vips_block_untrusted_set(TRUE);
    // librsvg is marked untrusted by default; it is re-allowed only for stored SVG outputs (the Swift side sniffs
    // magic bytes before any load, and uploads accept png/jpeg/webp only). From a buffer it has no base URL, so
    // an SVG cannot make it read files or the network.
    vips_operation_block_set("VipsForeignLoadSvg", FALSE);
    atelier_init_result = 0;
    return NULL;
}

int atelier_vips_init(void) {
    static GOnce once = G_ONCE_INIT;
    g_once(&once, atelier_do_init, NULL);
    return atelier_init_result;
}

char *atelier_vips_error_copy(void) {
    char *text = vips_error_buffer_copy();
    return text ? text : g_strdup("");
}

static int atelier_load_nocopy(void *buf, size_t len, AtelierFormat format, VipsAccess access,
                               int fail_on_truncated, VipsImage **out) {
    VipsFailOn fail_on = fail_on_truncated ? VIPS_FAIL_ON_TRUNCATED : VIPS_FAIL_ON_NONE;
    switch (format) {
    case ATELIER_FORMAT_PNG:
        return vips_pngload_buffer(buf, len, out, "access", access, "fail_on", fail_on, NULL);
    case ATELIER_FORMAT_JPEG:
        return vips_jpegload_buffer(buf, len, out, "access", access, "fail_on", fail_on, NULL);
    case ATELIER_FORMAT_WEBP:
        return vips_webpload_buffer(buf, len, out, "access", access, "fail_on", fail_on, NULL);
    }
    vips_error("atelier", "unknown format %d", (int)format);
    return -1;
}

int atelier_probe(const void *buf, size_t len, AtelierFormat format,
                  int *width, int *height, int *bands, int *has_alpha, int *orientation) {
    VipsImage *image = NULL;
    // Loaders only parse the header until pixels are requested; we never request any.
    if (atelier_load_nocopy((void *)buf, len, format, VIPS_ACCESS_SEQUENTIAL, 0, &image) != 0)
        return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    *bands = vips_image_get_bands(image);
    *has_alpha = vips_image_hasalpha(image) ? 1 : 0;
    *orientation = vips_image_get_orientation(image);
    g_object_unref(image);
    return 0;
}

static void atelier_free_copy(VipsImage *image, gpointer data) {
    (void)image;
    g_free(data);
}

int atelier_load(const void *buf, size_t len, AtelierFormat format, int fail_on_truncated, VipsImage **out) {
    void *copy = g_memdup2(buf, len);
    VipsImage *image = NULL;
    if (atelier_load_nocopy(copy, len, format, VIPS_ACCESS_RANDOM, fail_on_truncated, &image) != 0) {
        g_free(copy);
        return -1;
    }
    // The image (and everything computed from it, which holds a ref) owns the copy.
    g_signal_connect(image, "postclose", G_CALLBACK(atelier_free_copy), copy);
    *out = image;
    return 0;
}

int atelier_save(VipsImage *in, AtelierFormat format, int quality, int png_compression, int strip,
                 void **buf, size_t *len) {
    switch (format) {
    case ATELIER_FORMAT_PNG:
        return vips_pngsave_buffer(in, buf, len,
                                   "compression", png_compression < 0 ? 6 : png_compression,
                                   "strip", strip ? TRUE : FALSE, NULL);
    case ATELIER_FORMAT_JPEG:
        return vips_jpegsave_buffer(in, buf, len, "Q", quality < 1 ? 75 : quality,
                                    "strip", strip ? TRUE : FALSE, NULL);
    case ATELIER_FORMAT_WEBP:
        return vips_webpsave_buffer(in, buf, len, "Q", quality < 1 ? 75 : quality,
                                    "strip", strip ? TRUE : FALSE, NULL);
    }
    vips_error("atelier", "unknown format %d", (int)format);
    return -1;
}

int atelier_thumbnail_webp(const void *buf, size_t len, int size, int quality, void **out_buf, size_t *out_len) {
    VipsImage *thumb = NULL;
    if (vips_thumbnail_buffer((void *)buf, len, &thumb, size, "height", size, "size", VIPS_SIZE_DOWN,
                              "option_string", "fail_on=truncated", NULL) != 0)
        return -1;
    int result = vips_webpsave_buffer(thumb, out_buf, out_len, "Q", quality, "strip", TRUE, NULL);
    g_object_unref(thumb);
    return result;
}

int atelier_thumbnail_webp_file(const char *path, int size, int quality, void **out_buf, size_t *out_len) {
    VipsImage *thumb = NULL;
    // A file source (read as the pipeline needs it) keeps the loader's fail_on option, which
    // vips_thumbnail(filename) does not pass on.
    VipsSource *source = vips_source_new_from_file(path);
    if (source == NULL)
        return -1;
    int status = vips_thumbnail_source(source, &thumb, size, "height", size, "size", VIPS_SIZE_DOWN,
                                       "option_string", "fail_on=truncated", NULL);
    g_object_unref(source);
    if (status != 0)
        return -1;
    int result = vips_webpsave_buffer(thumb, out_buf, out_len, "Q", quality, "strip", TRUE, NULL);
    g_object_unref(thumb);
    return result;
}

int atelier_autorot(VipsImage *in, VipsImage **out) { return vips_autorot(in, out, NULL); }

int atelier_get_orientation(VipsImage *in) { return vips_image_get_orientation(in); }

int atelier_copy_with_orientation(VipsImage *in, int orientation, VipsImage **out) {
    if (vips_copy(in, out, NULL) != 0)
        return -1;
    vips_image_set_int(*out, VIPS_META_ORIENTATION, orientation);
    return 0;
}

int atelier_copy_interpretation(VipsImage *in, VipsInterpretation interpretation, VipsImage **out) {
    return vips_copy(in, out, "interpretation", interpretation, NULL);
}

int atelier_resize(VipsImage *in, double hscale, double vscale, VipsImage **out) {
    return vips_resize(in, out, hscale, "vscale", vscale, NULL);
}

int atelier_colourspace(VipsImage *in, VipsInterpretation space, VipsImage **out) {
    return vips_colourspace(in, out, space, NULL);
}

int atelier_cast_uchar(VipsImage *in, VipsImage **out) { return vips_cast_uchar(in, out, NULL); }

int atelier_extract_band(VipsImage *in, int band, int n, VipsImage **out) {
    return vips_extract_band(in, out, band, "n", n, NULL);
}

int atelier_extract_area(VipsImage *in, int left, int top, int width, int height, VipsImage **out) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int atelier_embed_copy(VipsImage *in, int width, int height, VipsImage **out) {
    return vips_embed(in, out, 0, 0, width, height, "extend", VIPS_EXTEND_COPY, NULL);
}

int atelier_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_bandjoin2(a, b, out, NULL); }

int atelier_bandjoin_const1(VipsImage *in, double c, VipsImage **out) {
    return vips_bandjoin_const1(in, out, c, NULL);
}

int atelier_flatten(VipsImage *in, double r, double g, double b, VipsImage **out) {
    double values[3] = {r, g, b};
    VipsArrayDouble *background = vips_array_double_new(values, 3);
    int result = vips_flatten(in, out, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return result;
}

int atelier_black(int width, int height, int bands, VipsImage **out) {
    return vips_black(out, width, height, "bands", bands, NULL);
}

int atelier_xyz(int width, int height, VipsImage **out) { return vips_xyz(out, width, height, NULL); }

int atelier_gaussnoise(int width, int height, double sigma, double mean, int seed, VipsImage **out) {
    return vips_gaussnoise(out, width, height, "sigma", sigma, "mean", mean, "seed", seed, NULL);
}

int atelier_linear1(VipsImage *in, double a, double b, VipsImage **out) { return vips_linear1(in, out, a, b, NULL); }

int atelier_recomb(VipsImage *in, const double *matrix, int rows, int cols, VipsImage **out) {
    VipsImage *m = vips_image_new_matrix_from_array(cols, rows, matrix, rows * cols);
    if (!m)
        return -1;
    int result = vips_recomb(in, out, m, NULL);
    g_object_unref(m);
    return result;
}

int atelier_moreeq_const1(VipsImage *in, double c, VipsImage **out) { return vips_moreeq_const1(in, out, c, NULL); }

int atelier_more_const1(VipsImage *in, double c, VipsImage **out) { return vips_more_const1(in, out, c, NULL); }

int atelier_invert(VipsImage *in, VipsImage **out) { return vips_invert(in, out, NULL); }

int atelier_and_const1(VipsImage *in, double c, VipsImage **out) { return vips_andimage_const1(in, out, c, NULL); }

int atelier_and(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_andimage(a, b, out, NULL); }

int atelier_bandor(VipsImage *in, VipsImage **out) { return vips_bandor(in, out, NULL); }

int atelier_subtract(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_subtract(a, b, out, NULL); }

int atelier_abs(VipsImage *in, VipsImage **out) { return vips_abs(in, out, NULL); }

int atelier_convsep_float(VipsImage *in, const double *coeffs, int n, VipsImage **out) {
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += coeffs[i];
    VipsImage *mask = vips_image_new_matrix_from_array(n, 1, coeffs, n);
    if (!mask)
        return -1;
    vips_image_set_double(mask, "scale", sum);
    vips_image_set_double(mask, "offset", 0);
    int result = vips_convsep(in, out, mask, "precision", VIPS_PRECISION_FLOAT, NULL);
    g_object_unref(mask);
    return result;
}

int atelier_ifthenelse(VipsImage *cond, VipsImage *in1, VipsImage *in2, int blend, VipsImage **out) {
    return vips_ifthenelse(cond, in1, in2, out, "blend", blend ? TRUE : FALSE, NULL);
}

int atelier_draw_circle(VipsImage *image, const double *ink, int n, int cx, int cy, int radius) {
    return vips_draw_circle(image, (double *)ink, n, cx, cy, radius, "fill", TRUE, NULL);
}

int atelier_draw_rect(VipsImage *image, const double *ink, int n, int left, int top, int width, int height) {
    return vips_draw_rect(image, (double *)ink, n, left, top, width, height, "fill", TRUE, NULL);
}

void *atelier_write_to_memory(VipsImage *in, size_t *len) { return vips_image_write_to_memory(in, len); }

int atelier_probe_output(const void *buf, size_t len, int is_svg, int *width, int *height, int *pages) {
    VipsImage *image = NULL;
    int status = is_svg
        ? vips_svgload_buffer((void *)buf, len, &image, "access", VIPS_ACCESS_SEQUENTIAL, NULL)
        : vips_gifload_buffer((void *)buf, len, &image, "access", VIPS_ACCESS_SEQUENTIAL, "n", -1, NULL);
    if (status != 0)
        return -1;
    *pages = is_svg ? 1 : vips_image_get_n_pages(image);
    *width = vips_image_get_width(image);
    *height = is_svg ? vips_image_get_height(image) : vips_image_get_page_height(image);
    g_object_unref(image);
    return 0;
}

int atelier_gif_animate(VipsImage **frames, int count, int delay_ms, void **buf, size_t *len) {
    if (count < 1) {
        vips_error("atelier", "an animation needs at least one frame");
        return -1;
    }
    VipsImage *strip = NULL;
    if (vips_arrayjoin(frames, &strip, count, "across", 1, NULL) != 0)
        return -1;
    VipsImage *animated = NULL;
    int status = vips_copy(strip, &animated, NULL);
    g_object_unref(strip);
    if (status != 0)
        return -1;
    int *delays = g_new(int, count);
    for (int i = 0; i < count; i++)
        delays[i] = delay_ms;
    vips_image_set_int(animated, VIPS_META_PAGE_HEIGHT, vips_image_get_height(frames[0]));
    vips_image_set_array_int(animated, "delay", delays, count);
    vips_image_set_int(animated, "loop", 0);
    g_free(delays);
    status = vips_gifsave_buffer(animated, buf, len, "strip", TRUE, NULL);
    g_object_unref(animated);
    return status;
}
