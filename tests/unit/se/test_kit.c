// SPDX-License-Identifier: Apache-2.0
/* Kit protocol lines: a table of host lines and replies, good and bad. */
#include "../test.h"
#include "thingcore/kit.h"
#include "thingcore/util.h"

struct line_row {
    const char *line;
    int rc;
    uint8_t status; /* kit status to answer when rc != TC_OK */
    enum tc_kit_cmd cmd;
    const char *data_hex; /* expected argument bytes */
};

static const struct line_row line_rows[] = {
    {"board:device(00)\n", TC_OK, 0, TC_KIT_BOARD_DEVICE, "00"},
    {"BOARD:DEVICE(07)\r\n", TC_OK, 0, TC_KIT_BOARD_DEVICE, "07"},
    {"E:physical:select(6A)\n", TC_OK, 0, TC_KIT_SELECT, "6A"},
    {"e:physical:select(c0)\n", TC_OK, 0, TC_KIT_SELECT, "C0"},
    {"E:physical:interface:i2c\n", TC_OK, 0, TC_KIT_INTERFACE, ""},
    {"E:w()\n", TC_OK, 0, TC_KIT_WAKE, ""},
    {"e:W()", TC_OK, 0, TC_KIT_WAKE, ""},
    {"E:i()\n", TC_OK, 0, TC_KIT_IDLE, ""},
    {"E:s()\n", TC_OK, 0, TC_KIT_SLEEP, ""},
    {"E:t(0730000000035D)\n", TC_OK, 0, TC_KIT_TRANSMIT, "0730000000035D"},
    {"e:t(0730000000035d)\n", TC_OK, 0, TC_KIT_TRANSMIT, "0730000000035D"},
    {"\0\0E:i()\n", TC_OK, 0, TC_KIT_IDLE, ""}, /* NULs before a line */
    /* Refusals: each with the kit status the daemon answers. */
    {"E:t(073)\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"E:t(07ZZ)\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"E:t()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"E:w(00)\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"board:device()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"board:device(0001)\n", TC_ERR_ATCA_KIT, TC_KIT_ST_BAD_ARG, 0, NULL},
    {"hello world\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:w(\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:w())\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:t((00))\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"(00)\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:w()\x01\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:w\xff()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_SYNTAX, 0, NULL},
    {"E:x()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_UNKNOWN, 0, NULL},
    {"S:w()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_UNKNOWN, 0, NULL},
    {"board:reset()\n", TC_ERR_ATCA_KIT, TC_KIT_ST_UNKNOWN, 0, NULL},
    {"\n", TC_ERR_NOT_FOUND, 0, 0, NULL},
    {"\r\n", TC_ERR_NOT_FOUND, 0, 0, NULL},
};

/* The line's length: the rows with leading NULs need it spelled out. */
static size_t
row_len(const struct line_row *r)
{
    size_t skip = 0;

    while (r->line[skip] == '\0' && skip < 2) {
        skip++;
    }
    return skip + strlen(r->line + skip);
}

TC_TEST(kit_parse_line_table)
{
    size_t i;

    for (i = 0; i < sizeof(line_rows) / sizeof(line_rows[0]); i++) {
        const struct line_row *r = &line_rows[i];
        struct tc_kit_line kl;
        struct tc_detail d;
        char hex[2 * TC_KIT_DATA_MAX + 1];
        int rc;

        tc_detail_clear(&d);
        rc = tc_kit_parse_line(r->line, row_len(r), &kl, &d);
        if (rc != r->rc) {
            tc_test_fail(__FILE__, __LINE__, "row %zu: rc %d, want %d (%s)",
                         i, rc, r->rc, d.text);
            return;
        }
        if (rc == TC_ERR_ATCA_KIT) {
            CHECK_EQ_INT(kl.status, r->status);
            CHECK(d.text[0] != '\0');
            continue;
        }
        if (rc != TC_OK) {
            continue;
        }
        CHECK_EQ_INT(kl.cmd, r->cmd);
        tc_hex_encode(kl.data, kl.len, hex, 1);
        CHECK_EQ_STR(hex, r->data_hex);
    }
}

TC_TEST(kit_parse_line_bounds)
{
    char line[TC_KIT_LINE_MAX + 2];
    struct tc_kit_line kl;
    size_t n;

    /* The longest transmit: a full command packet plus a word address. */
    memcpy(line, "E:t(", 4);
    memset(line + 4, 'A', 2 * TC_KIT_DATA_MAX);
    n = 4 + 2 * TC_KIT_DATA_MAX;
    memcpy(line + n, ")\r\n", 3);
    CHECK_EQ_INT(tc_kit_parse_line(line, n + 3, &kl, NULL), TC_OK);
    CHECK_EQ_INT(kl.len, TC_KIT_DATA_MAX);

    /* One byte more is refused as a bad argument. */
    memset(line + 4, 'B', 2 * TC_KIT_DATA_MAX + 2);
    n = 4 + 2 * TC_KIT_DATA_MAX + 2;
    memcpy(line + n, ")\n", 2);
    CHECK_EQ_INT(tc_kit_parse_line(line, n + 2, &kl, NULL), TC_ERR_ATCA_KIT);
    CHECK_EQ_INT(kl.status, TC_KIT_ST_BAD_ARG);

    /* Over-long lines are refused before they are looked at. */
    memset(line, 'E', sizeof(line));
    CHECK_EQ_INT(tc_kit_parse_line(line, sizeof(line), &kl, NULL),
                 TC_ERR_ATCA_KIT);
    CHECK_EQ_INT(kl.status, TC_KIT_ST_TOO_LONG);
}

TC_TEST(kit_format_line)
{
    static const uint8_t pkt[] = {0x07, 0x30, 0x00, 0x00, 0x00, 0x03, 0x5D};
    uint8_t addr = 0x6A;
    uint8_t idx = 0;
    char out[TC_KIT_LINE_MAX];
    struct tc_kit_line kl;

    CHECK_EQ_INT(tc_kit_format_line(out, sizeof(out), TC_KIT_TRANSMIT, pkt,
                                    sizeof(pkt)),
                 20);
    CHECK_EQ_STR(out, "E:t(0730000000035D)\n");
    CHECK_EQ_INT(tc_kit_parse_line(out, strlen(out), &kl, NULL), TC_OK);
    CHECK_EQ_MEM(kl.data, pkt, sizeof(pkt));

    CHECK(tc_kit_format_line(out, sizeof(out), TC_KIT_BOARD_DEVICE, &idx,
                             1) > 0);
    CHECK_EQ_STR(out, "board:device(00)\n");
    CHECK(tc_kit_format_line(out, sizeof(out), TC_KIT_SELECT, &addr, 1) > 0);
    CHECK_EQ_STR(out, "E:physical:select(6A)\n");
    CHECK(tc_kit_format_line(out, sizeof(out), TC_KIT_WAKE, NULL, 0) > 0);
    CHECK_EQ_STR(out, "E:w()\n");

    /* Wrong sizes and a buffer too small give 0. */
    CHECK_EQ_INT(tc_kit_format_line(out, sizeof(out), TC_KIT_WAKE, pkt, 1),
                 0);
    CHECK_EQ_INT(tc_kit_format_line(out, sizeof(out), TC_KIT_TRANSMIT, pkt,
                                    0),
                 0);
    CHECK_EQ_INT(tc_kit_format_line(out, 20, TC_KIT_TRANSMIT, pkt, 7), 0);
    CHECK_EQ_INT(tc_kit_format_line(out, 21, TC_KIT_TRANSMIT, pkt, 7), 20);
}

struct reply_row {
    const char *line;
    int rc;
    const char *prefix;
    uint8_t status;
    const char *data_hex;
};

static const struct reply_row reply_rows[] = {
    {"00(04113343)\n", TC_OK, "", 0x00, "04113343"},
    {"00()\n", TC_OK, "", 0x00, ""},
    {"ECC608 TWI 00(6A)\n", TC_OK, "ECC608 TWI", 0x00, "6A"},
    {"e7()\r\n", TC_OK, "", 0xE7, ""},
    {"00(04113343)", TC_OK, "", 0x00, "04113343"},
    {"0(00)\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"XY(00)\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"00(041)\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"00(0411\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"00(()\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"ECC60800(6A)\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"garbage\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
    {"\n", TC_ERR_ATCA_KIT, NULL, 0, NULL},
};

TC_TEST(kit_parse_reply_table)
{
    size_t i;

    for (i = 0; i < sizeof(reply_rows) / sizeof(reply_rows[0]); i++) {
        const struct reply_row *r = &reply_rows[i];
        struct tc_kit_reply kr;
        struct tc_detail d;
        char hex[2 * TC_KIT_DATA_MAX + 1];
        int rc;

        tc_detail_clear(&d);
        rc = tc_kit_parse_reply(r->line, strlen(r->line), &kr, &d);
        if (rc != r->rc) {
            tc_test_fail(__FILE__, __LINE__, "row %zu: rc %d, want %d", i,
                         rc, r->rc);
            return;
        }
        if (rc != TC_OK) {
            CHECK(d.text[0] != '\0');
            continue;
        }
        CHECK_EQ_STR(kr.prefix, r->prefix);
        CHECK_EQ_INT(kr.status, r->status);
        tc_hex_encode(kr.data, kr.len, hex, 1);
        CHECK_EQ_STR(hex, r->data_hex);
    }
}

TC_TEST(kit_format_reply)
{
    static const uint8_t wake[] = {0x04, 0x11, 0x33, 0x43};
    uint8_t addr = 0x6A;
    char out[TC_KIT_LINE_MAX];
    uint8_t big[TC_KIT_DATA_MAX + 1] = {0};

    CHECK_EQ_INT(tc_kit_format_reply(out, sizeof(out), NULL, 0, wake, 4), 13);
    CHECK_EQ_STR(out, "00(04113343)\n");
    CHECK(tc_kit_format_reply(out, sizeof(out), "ECC608 TWI", 0, &addr, 1) >
          0);
    CHECK_EQ_STR(out, "ECC608 TWI 00(6A)\n");
    CHECK(tc_kit_format_reply(out, sizeof(out), NULL, TC_KIT_ST_NO_RESPONSE,
                              NULL, 0) > 0);
    CHECK_EQ_STR(out, "E7()\n");
    CHECK_EQ_INT(tc_kit_format_reply(out, 5, NULL, 0, NULL, 0), 0);
    CHECK_EQ_INT(tc_kit_format_reply(out, sizeof(out), NULL, 0, big,
                                     sizeof(big)),
                 0);
    CHECK_EQ_STR(tc_kit_status_text(TC_KIT_ST_NO_RESPONSE),
                 "no response from device");
}
