// SPDX-License-Identifier: Apache-2.0
/*
 * Packet framing for the ATECC608 protocol: CRC, command and response
 * packets, status codes, slot geometry, address encoding. Pure functions;
 * no I/O.
 */
#include <pthread.h>
#include <string.h>

#include "thingcore/atca.h"
#include "thingcore/err.h"

/*
 * The chip's CRC feeds each byte LSB first into an MSB-first register: the
 * same as the plain MSB-first CRC of the bit-reversed byte, so a 256-entry
 * table of that CRC does a byte per step. The table is built once, from
 * the bit-by-bit definition.
 */
static uint16_t crc_table[256];
static uint8_t reverse_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
    unsigned i;
    int bit;

    for (i = 0; i < 256; i++) {
        uint16_t reg = (uint16_t)(i << 8);
        uint8_t rev = 0;

        for (bit = 0; bit < 8; bit++) {
            reg = (uint16_t)((reg & 0x8000) ? (reg << 1) ^ 0x8005 : reg << 1);
            rev = (uint8_t)(rev << 1 | ((i >> bit) & 1));
        }
        crc_table[i] = reg;
        reverse_table[i] = rev;
    }
}

uint16_t
tc_atca_crc(const uint8_t *p, size_t n)
{
    uint16_t reg = 0;
    size_t i;

    pthread_once(&crc_once, crc_init);
    for (i = 0; i < n; i++) {
        reg = (uint16_t)(reg << 8 ^
                         crc_table[(reg >> 8) ^ reverse_table[p[i]]]);
    }
    return reg;
}

static void
put_crc(uint8_t *p, size_t n)
{
    uint16_t crc = tc_atca_crc(p, n);

    p[n] = (uint8_t)(crc & 0xff);
    p[n + 1] = (uint8_t)(crc >> 8);
}

static int
crc_ok(const uint8_t *p, size_t n)
{
    uint16_t crc = tc_atca_crc(p, n - 2);

    return p[n - 2] == (crc & 0xff) && p[n - 1] == (crc >> 8);
}

size_t
tc_atca_build_cmd(uint8_t *out, uint8_t opcode, uint8_t param1,
                  uint16_t param2, const uint8_t *data, size_t n)
{
    size_t count = TC_ATCA_CMD_MIN + n;

    if (count > TC_ATCA_CMD_MAX) {
        return 0;
    }
    out[0] = (uint8_t)count;
    out[1] = opcode;
    out[2] = param1;
    out[3] = (uint8_t)(param2 & 0xff);
    out[4] = (uint8_t)(param2 >> 8);
    if (n > 0) {
        memcpy(out + 5, data, n);
    }
    put_crc(out, count - 2);
    return count;
}

int
tc_atca_parse_cmd(const uint8_t *pkt, size_t n, struct tc_atca_cmd *cmd)
{
    /* A packet too short to hold count, opcode, params and CRC. */
    if (n < TC_ATCA_CMD_MIN) {
        return TC_ERR_ATCA_PARSE;
    }

    /* The count byte must describe exactly what arrived, then the CRC. */
    if (pkt[0] != n || n > TC_ATCA_CMD_MAX || !crc_ok(pkt, n)) {
        return TC_ERR_ATCA_COMM;
    }
    cmd->opcode = pkt[1];
    cmd->param1 = pkt[2];
    cmd->param2 = (uint16_t)(pkt[3] | pkt[4] << 8);
    cmd->data = pkt + 5;
    cmd->data_len = n - TC_ATCA_CMD_MIN;
    return TC_OK;
}

size_t
tc_atca_build_rsp(uint8_t *out, const uint8_t *data, size_t n)
{
    out[0] = (uint8_t)(n + 3);
    if (n > 0) {
        memcpy(out + 1, data, n);
    }
    put_crc(out, n + 1);
    return n + 3;
}

size_t
tc_atca_build_status(uint8_t *out, uint8_t status)
{
    return tc_atca_build_rsp(out, &status, 1);
}

int
tc_atca_status_err(uint8_t status)
{
    switch (status) {
    case TC_ATCA_ST_SUCCESS:
        return TC_OK;
    case TC_ATCA_ST_MISCOMPARE:
        return TC_ERR_ATCA_MISCOMPARE;
    case TC_ATCA_ST_PARSE:
        return TC_ERR_ATCA_PARSE;
    case TC_ATCA_ST_ECC_FAULT:
        return TC_ERR_ATCA_ECC_FAULT;
    case TC_ATCA_ST_SELFTEST:
        return TC_ERR_ATCA_SELFTEST;
    case TC_ATCA_ST_HEALTH:
        return TC_ERR_ATCA_HEALTH;
    case TC_ATCA_ST_EXECUTION:
        return TC_ERR_ATCA_EXECUTION;
    case TC_ATCA_ST_AFTER_WAKE:
        return TC_ERR_ATCA_AFTER_WAKE;
    case TC_ATCA_ST_WATCHDOG:
        return TC_ERR_ATCA_WATCHDOG;
    case TC_ATCA_ST_COMM:
        return TC_ERR_ATCA_COMM;
    default:
        return TC_ERR_ATCA_UNKNOWN_STATUS;
    }
}

int
tc_atca_parse_rsp(const uint8_t *pkt, size_t n, const uint8_t **data,
                  size_t *data_len)
{
    if (n < 4 || pkt[0] != n) {
        return TC_ERR_ATCA_BAD_RESPONSE;
    }
    if (!crc_ok(pkt, n)) {
        return TC_ERR_ATCA_BAD_CRC;
    }

    /* One data byte is a status; anything else is the command's output. */
    if (n == 4 && pkt[1] != TC_ATCA_ST_SUCCESS) {
        return tc_atca_status_err(pkt[1]);
    }
    *data = pkt + 1;
    *data_len = n - 3;
    return TC_OK;
}

size_t
tc_atca_slot_size(unsigned slot)
{
    if (slot < 8) {
        return 36;
    }
    if (slot == 8) {
        return 416;
    }
    if (slot < TC_ATCA_SLOTS) {
        return 72;
    }
    return 0;
}

size_t
tc_atca_slot_offset(unsigned slot)
{
    size_t off = 0;
    unsigned i;

    for (i = 0; i < slot && i < TC_ATCA_SLOTS; i++) {
        off += tc_atca_slot_size(i);
    }
    return off;
}

uint16_t
tc_atca_addr(int zone, unsigned slot, unsigned block, unsigned word)
{
    if ((zone & 0x03) == TC_ATCA_ZONE_DATA) {
        return (uint16_t)(slot << 3 | block << 8 | word);
    }
    return (uint16_t)(block << 3 | word);
}

unsigned
tc_atca_exec_max_ms(uint8_t opcode)
{
    /* ATECC608 maximum execution times, rounded up. */
    switch (opcode) {
    case TC_ATCA_OP_READ:
    case TC_ATCA_OP_INFO:
        return 2;
    case TC_ATCA_OP_WRITE:
    case TC_ATCA_OP_NONCE:
    case TC_ATCA_OP_LOCK:
        return 35;
    case TC_ATCA_OP_RANDOM:
        return 25;
    case TC_ATCA_OP_SHA:
        return 42;
    case TC_ATCA_OP_ECDH:
        return 75;
    case TC_ATCA_OP_GENKEY:
        return 115;
    case TC_ATCA_OP_SIGN:
        return 115;
    case TC_ATCA_OP_VERIFY:
        return 105;
    default:
        return 200;
    }
}
