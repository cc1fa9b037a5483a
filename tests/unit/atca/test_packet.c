// SPDX-License-Identifier: Apache-2.0
/* Packet vectors from reference/trustngo-atecc608.md, byte for byte. */
#include "../test.h"
#include "thingcore/atca.h"
#include "thingcore/err.h"

struct cmd_row {
    uint8_t opcode;
    uint8_t p1;
    uint16_t p2;
    uint8_t expect[7];
};

static const struct cmd_row cmd_rows[] = {
    {TC_ATCA_OP_INFO, 0x00, 0x0000, {0x07, 0x30, 0x00, 0x00, 0x00, 0x03, 0x5D}},
    {TC_ATCA_OP_READ, 0x80, 0x0000, {0x07, 0x02, 0x80, 0x00, 0x00, 0x09, 0xAD}},
    {TC_ATCA_OP_READ, 0x81, 0x0000, {0x07, 0x02, 0x81, 0x00, 0x00, 0x0A, 0x27}},
    {TC_ATCA_OP_READ, 0x82, 0x0050, {0x07, 0x02, 0x82, 0x50, 0x00, 0x0A, 0x14}},
    {TC_ATCA_OP_GENKEY, 0x00, 0x0000,
     {0x07, 0x40, 0x00, 0x00, 0x00, 0x00, 0x05}},
    {TC_ATCA_OP_RANDOM, 0x00, 0x0000,
     {0x07, 0x1B, 0x00, 0x00, 0x00, 0x24, 0xCD}},
};

TC_TEST(atca_reference_command_packets)
{
    size_t i;

    for (i = 0; i < sizeof(cmd_rows) / sizeof(cmd_rows[0]); i++) {
        uint8_t pkt[TC_ATCA_CMD_MAX];
        struct tc_atca_cmd cmd;
        size_t n = tc_atca_build_cmd(pkt, cmd_rows[i].opcode, cmd_rows[i].p1,
                                     cmd_rows[i].p2, NULL, 0);

        CHECK_EQ_INT(n, 7);
        CHECK_EQ_MEM(pkt, cmd_rows[i].expect, 7);
        CHECK_EQ_INT(tc_atca_parse_cmd(pkt, n, &cmd), TC_OK);
        CHECK_EQ_INT(cmd.opcode, cmd_rows[i].opcode);
        CHECK_EQ_INT(cmd.param2, cmd_rows[i].p2);
    }
}

TC_TEST(atca_crc_vectors)
{
    static const uint8_t info[] = {0x07, 0x30, 0x00, 0x00, 0x00};
    static const uint8_t read[] = {0x07, 0x02, 0x80, 0x00, 0x00};

    CHECK_EQ_INT(tc_atca_crc(info, 5), 0x5D03);
    CHECK_EQ_INT(tc_atca_crc(read, 5), 0xAD09);
}

TC_TEST(atca_status_packets)
{
    static const struct {
        uint8_t status;
        uint8_t pkt[4];
        int err;
    } rows[] = {
        {0x00, {0x04, 0x00, 0x03, 0x40}, TC_OK},
        {0x0F, {0x04, 0x0F, 0x23, 0x42}, TC_ERR_ATCA_EXECUTION},
        {0x11, {0x04, 0x11, 0x33, 0x43}, TC_ERR_ATCA_AFTER_WAKE},
        {0x01, {0x04, 0x01, 0x00, 0xC3}, TC_ERR_ATCA_MISCOMPARE},
        {0x03, {0x04, 0x03, 0x83, 0x42}, TC_ERR_ATCA_PARSE},
        {0xEE, {0x04, 0xEE, 0x31, 0x41}, TC_ERR_ATCA_WATCHDOG},
        {0xFF, {0x04, 0xFF, 0x01, 0x42}, TC_ERR_ATCA_COMM},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint8_t pkt[4];
        const uint8_t *data;
        size_t n;

        CHECK_EQ_INT(tc_atca_build_status(pkt, rows[i].status), 4);
        CHECK_EQ_MEM(pkt, rows[i].pkt, 4);
        CHECK_EQ_INT(tc_atca_parse_rsp(pkt, 4, &data, &n), rows[i].err);
    }
    CHECK_EQ_INT(tc_atca_status_err(0x05), TC_ERR_ATCA_ECC_FAULT);
    CHECK_EQ_INT(tc_atca_status_err(0x07), TC_ERR_ATCA_SELFTEST);
    CHECK_EQ_INT(tc_atca_status_err(0x08), TC_ERR_ATCA_HEALTH);
    CHECK_EQ_INT(tc_atca_status_err(0x42), TC_ERR_ATCA_UNKNOWN_STATUS);
}

TC_TEST(atca_malformed_packets)
{
    uint8_t pkt[TC_ATCA_CMD_MAX];
    uint8_t big[200] = {0};
    struct tc_atca_cmd cmd;
    const uint8_t *data;
    size_t n;
    size_t dn;

    n = tc_atca_build_cmd(pkt, TC_ATCA_OP_INFO, 0, 0, NULL, 0);
    CHECK_EQ_INT(tc_atca_parse_cmd(pkt, 6, &cmd), TC_ERR_ATCA_PARSE);
    pkt[n - 1] ^= 1;
    CHECK_EQ_INT(tc_atca_parse_cmd(pkt, n, &cmd), TC_ERR_ATCA_COMM);
    pkt[n - 1] ^= 1;
    pkt[0] = 8;
    CHECK_EQ_INT(tc_atca_parse_cmd(pkt, n, &cmd), TC_ERR_ATCA_COMM);
    CHECK_EQ_INT(tc_atca_build_cmd(pkt, 0x12, 0, 0, big, 145), 0);

    /* responses: bad count, bad CRC, too short */
    n = tc_atca_build_rsp(pkt, big, 32);
    CHECK_EQ_INT(n, 35);
    CHECK_EQ_INT(tc_atca_parse_rsp(pkt, n, &data, &dn), TC_OK);
    CHECK_EQ_INT(dn, 32);
    CHECK_EQ_INT(tc_atca_parse_rsp(pkt, n - 1, &data, &dn),
                 TC_ERR_ATCA_BAD_RESPONSE);
    pkt[5] ^= 0x80;
    CHECK_EQ_INT(tc_atca_parse_rsp(pkt, n, &data, &dn), TC_ERR_ATCA_BAD_CRC);
    CHECK_EQ_INT(tc_atca_parse_rsp(pkt, 3, &data, &dn),
                 TC_ERR_ATCA_BAD_RESPONSE);
}

TC_TEST(atca_slot_geometry_and_addresses)
{
    CHECK_EQ_INT(tc_atca_slot_size(0), 36);
    CHECK_EQ_INT(tc_atca_slot_size(7), 36);
    CHECK_EQ_INT(tc_atca_slot_size(8), 416);
    CHECK_EQ_INT(tc_atca_slot_size(15), 72);
    CHECK_EQ_INT(tc_atca_slot_size(16), 0);
    CHECK_EQ_INT(tc_atca_slot_offset(9), 8 * 36 + 416);
    CHECK_EQ_INT(tc_atca_slot_offset(16), TC_ATCA_DATA_SIZE);
    CHECK_EQ_INT(tc_atca_addr(TC_ATCA_ZONE_DATA, 10, 0, 0), 0x0050);
    CHECK_EQ_INT(tc_atca_addr(TC_ATCA_ZONE_DATA, 8, 12, 3), 0x0C43);
    CHECK_EQ_INT(tc_atca_addr(TC_ATCA_ZONE_CONFIG, 0, 2, 5), 0x0015);
}
