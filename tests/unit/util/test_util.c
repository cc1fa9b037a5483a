// SPDX-License-Identifier: Apache-2.0
/* Error texts, hex, base64/base64url, the bounded buffer, JSON limits. */
#include <stdlib.h>
#include <sys/stat.h>

#include "../test.h"
#include "thingcore/err.h"
#include "thingcore/json.h"
#include "thingcore/util.h"

static const int all_codes[] = {
#define ROW_(name, value, text) value,
    TC_ERR_LIST(ROW_)
#undef ROW_
};

TC_TEST(err_every_code_has_a_unique_text)
{
    size_t n = sizeof(all_codes) / sizeof(all_codes[0]);
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        CHECK(strcmp(tc_strerror(all_codes[i]), "unknown error") != 0);
        CHECK(strlen(tc_strerror(all_codes[i])) > 0);
        CHECK(strcmp(tc_errname(all_codes[i]), "TC_ERR_UNKNOWN") != 0);
        for (j = i + 1; j < n; j++) {
            CHECK(all_codes[i] != all_codes[j]);
            CHECK(strcmp(tc_strerror(all_codes[i]),
                         tc_strerror(all_codes[j])) != 0);
        }
    }
    CHECK_EQ_STR(tc_strerror(-12345), "unknown error");
    CHECK_EQ_STR(tc_errname(TC_ERR_PARSE), "TC_ERR_PARSE");
}

TC_TEST(err_detail_accepts_null)
{
    struct tc_detail d;

    CHECK_EQ_INT(tc_detail_set(NULL, TC_ERR_ARG, 3, "x", "y"), TC_ERR_ARG);
    tc_detail_clear(NULL);
    CHECK_EQ_INT(tc_detail_set(&d, TC_ERR_PARSE, 7, "kid", "bad %d", 5),
                 TC_ERR_PARSE);
    CHECK_EQ_INT(d.offset, 7);
    CHECK_EQ_STR(d.field, "kid");
    CHECK_EQ_STR(d.text, "bad 5");
}

TC_TEST(hex_round_trip_and_errors)
{
    static const uint8_t in[] = {0x01, 0x23, 0xab, 0xff};
    struct tc_detail d;
    uint8_t out[8];
    char text[9];
    size_t n = 0;

    tc_hex_encode(in, 4, text, 1);
    CHECK_EQ_STR(text, "0123ABFF");
    tc_hex_encode(in, 4, text, 0);
    CHECK_EQ_STR(text, "0123abff");
    CHECK_EQ_INT(tc_hex_decode("0123aBfF", 8, out, sizeof(out), &n, NULL),
                 TC_OK);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_MEM(out, in, 4);
    CHECK_EQ_INT(tc_hex_decode("012", 3, out, sizeof(out), &n, &d),
                 TC_ERR_BAD_HEX);
    CHECK_EQ_INT(tc_hex_decode("01g3", 4, out, sizeof(out), &n, &d),
                 TC_ERR_BAD_HEX);
    CHECK_EQ_INT(d.offset, 2);
    CHECK_EQ_INT(tc_hex_decode("0011223344556677889900", 22, out, sizeof(out),
                               &n, &d),
                 TC_ERR_TOO_BIG);
}

struct b64_row {
    const char *raw;
    const char *std;
    const char *url;
};

/* RFC 4648 section 10 vectors. */
static const struct b64_row b64_rows[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TC_TEST(base64_rfc4648_vectors)
{
    size_t i;

    for (i = 0; i < sizeof(b64_rows) / sizeof(b64_rows[0]); i++) {
        const struct b64_row *r = &b64_rows[i];
        size_t len = strlen(r->raw);
        uint8_t out[16];
        char text[16];
        size_t n = 99;

        CHECK_EQ_INT(tc_base64_len(len, 0), strlen(r->std));
        CHECK_EQ_INT(tc_base64_len(len, 1), strlen(r->url));
        tc_base64_encode((const uint8_t *)r->raw, len, text, 0);
        CHECK_EQ_STR(text, r->std);
        tc_base64_encode((const uint8_t *)r->raw, len, text, 1);
        CHECK_EQ_STR(text, r->url);
        CHECK_EQ_INT(tc_base64_decode(r->std, strlen(r->std), out,
                                      sizeof(out), &n, 0, NULL),
                     TC_OK);
        CHECK_EQ_INT(n, len);
        CHECK_EQ_MEM(out, r->raw, len);
        CHECK_EQ_INT(tc_base64_decode(r->url, strlen(r->url), out,
                                      sizeof(out), &n, 1, NULL),
                     TC_OK);
        CHECK_EQ_INT(n, len);
        CHECK_EQ_MEM(out, r->raw, len);
    }
}

TC_TEST(base64_rejects_noncanonical_input)
{
    static const uint8_t bin[] = {0xfb, 0xff};
    struct tc_detail d;
    uint8_t out[16];
    char text[8];
    size_t n;

    tc_base64_encode(bin, 2, text, 1);
    CHECK_EQ_STR(text, "-_8");
    tc_base64_encode(bin, 2, text, 0);
    CHECK_EQ_STR(text, "+/8=");
    /* wrong alphabet for each mode */
    CHECK_EQ_INT(tc_base64_decode("+/8", 3, out, 16, &n, 1, &d),
                 TC_ERR_BAD_BASE64);
    CHECK_EQ_INT(d.offset, 0);
    CHECK_EQ_INT(tc_base64_decode("-_8=", 4, out, 16, &n, 0, &d),
                 TC_ERR_BAD_BASE64);
    /* padding where none belongs, missing padding, bad length */
    CHECK_EQ_INT(tc_base64_decode("Zg==", 4, out, 16, &n, 1, &d),
                 TC_ERR_BAD_BASE64);
    CHECK_EQ_INT(tc_base64_decode("Zg", 2, out, 16, &n, 0, &d),
                 TC_ERR_BAD_BASE64);
    CHECK_EQ_INT(tc_base64_decode("Zm9vY", 5, out, 16, &n, 1, &d),
                 TC_ERR_BAD_BASE64);
    /* non-zero trailing bits: "Zh" would decode to "f" too */
    CHECK_EQ_INT(tc_base64_decode("Zh", 2, out, 16, &n, 1, &d),
                 TC_ERR_BAD_BASE64);
    CHECK_EQ_INT(tc_base64_decode("Zm 9v", 5, out, 16, &n, 1, &d),
                 TC_ERR_BAD_BASE64);
    CHECK_EQ_INT(tc_base64_decode("Zm9vYmFy", 8, out, 3, &n, 1, &d),
                 TC_ERR_TOO_BIG);
}

TC_TEST(buf_grows_to_max_and_no_further)
{
    struct tc_buf b;
    int i;

    tc_buf_init(&b, 100);
    for (i = 0; i < 10; i++) {
        CHECK_EQ_INT(tc_buf_append(&b, "0123456789", 10), TC_OK);
    }
    CHECK_EQ_INT(b.len, 100);
    CHECK_EQ_INT(tc_buf_append(&b, "x", 1), TC_ERR_TOO_BIG);
    CHECK_EQ_INT(b.len, 100);
    tc_buf_consume(&b, 95);
    CHECK_EQ_STR((char *)b.data, "56789");
    CHECK_EQ_INT(tc_buf_printf(&b, "%d-%s", 42, "x"), TC_OK);
    CHECK_EQ_STR((char *)b.data, "5678942-x");
    tc_buf_clear(&b, 1);
    tc_buf_clear(&b, 0);
    CHECK(b.data == NULL);
}

TC_TEST(file_atomic_write_mode_and_read_limit)
{
    char path[300];
    struct tc_buf b;
    struct tc_detail d;
    struct stat st;

    snprintf(path, sizeof(path), "%s/a/b/f", tc_test_tmpdir());
    CHECK_EQ_INT(tc_mkdir_p(strrchr(path, '/') ? "/tmp" : "", 0700, NULL),
                 TC_OK);
    *strrchr(path, '/') = '\0';
    CHECK_EQ_INT(tc_mkdir_p(path, 0700, NULL), TC_OK);
    strcat(path, "/f");
    CHECK_EQ_INT(tc_file_write_atomic(path, "hello", 5, 0600, &d), TC_OK);
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    tc_buf_init(&b, 4);
    CHECK_EQ_INT(tc_file_read(path, &b, &d), TC_ERR_TOO_BIG);
    tc_buf_clear(&b, 0);
    tc_buf_init(&b, 5);
    CHECK_EQ_INT(tc_file_read(path, &b, &d), TC_OK);
    CHECK_EQ_STR((char *)b.data, "hello");
    tc_buf_clear(&b, 0);
    tc_buf_init(&b, 5);
    CHECK_EQ_INT(tc_file_read("/nonexistent/x", &b, &d), TC_ERR_NOT_FOUND);
    CHECK(strstr(d.text, "/nonexistent/x") != NULL);
    tc_buf_clear(&b, 0);
}

TC_TEST(json_limits)
{
    struct tc_detail d;
    char deep[300];
    json_t *j;
    int err;

    j = tc_json_parse("{\"a\":\"b\"}", 9, 100, 4, &err, &d);
    CHECK(j != NULL);
    CHECK_EQ_STR(tc_json_str(j, "a"), "b");
    CHECK(tc_json_str(j, "missing") == NULL);
    json_decref(j);

    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    CHECK(tc_json_parse(deep, 200, 1000, 32, &err, &d) == NULL);
    CHECK_EQ_INT(err, TC_ERR_JSON_DEPTH);
    CHECK(tc_json_parse(deep, 200, 100, 32, &err, &d) == NULL);
    CHECK_EQ_INT(err, TC_ERR_TOO_BIG);
    /* brackets inside strings do not count */
    j = tc_json_parse("[\"[[[[[[\\\"[[[[\"]", 16, 100, 2, &err, &d);
    CHECK(j != NULL);
    json_decref(j);
    CHECK(tc_json_parse("{\"a\":1,\"a\":2}", 13, 100, 4, &err, &d) == NULL);
    CHECK_EQ_INT(err, TC_ERR_PARSE);
    CHECK(tc_json_parse("{\"a\":", 5, 100, 4, &err, &d) == NULL);
    CHECK_EQ_INT(err, TC_ERR_PARSE);
    CHECK(strstr(d.text, "line 1") != NULL);
}
