/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ATECC608 command protocol as bytes: CRC-16, command packets, response
 * packets and status codes. Both sides use it: the chip emulator parses
 * commands and builds responses, the client does the reverse.
 *
 * Packet layout (Microchip ATECC608 datasheet; reference/trustngo-atecc608.md),
 * without the I2C word address byte:
 *
 *   command  := count opcode param1 param2_lo param2_hi data* crc_lo crc_hi
 *               count = 7 + |data|, CRC over count .. last data byte
 *   response := count data* crc_lo crc_hi
 *               count = |data| + 3; a status-only response has one data byte
 *
 * CRC: polynomial 0x8005, initial value 0, input bits taken LSB first, no
 * final reflection or xor, stored little-endian.
 *
 * Limitations: only the commands a Trust&GO host uses are named here.
 */
#ifndef THINGCORE_ATCA_H
#define THINGCORE_ATCA_H

#include <stddef.h>
#include <stdint.h>

/* Largest command packet the chip accepts (4*36+7) and largest response. */
#define TC_ATCA_CMD_MAX 151
#define TC_ATCA_RSP_MAX 75
#define TC_ATCA_CMD_MIN 7

/* I2C word addresses. */
#define TC_ATCA_WA_RESET 0x00
#define TC_ATCA_WA_SLEEP 0x01
#define TC_ATCA_WA_IDLE 0x02
#define TC_ATCA_WA_COMMAND 0x03

/* Opcodes. */
#define TC_ATCA_OP_READ 0x02
#define TC_ATCA_OP_WRITE 0x12
#define TC_ATCA_OP_NONCE 0x16
#define TC_ATCA_OP_LOCK 0x17
#define TC_ATCA_OP_RANDOM 0x1B
#define TC_ATCA_OP_INFO 0x30
#define TC_ATCA_OP_GENKEY 0x40
#define TC_ATCA_OP_SIGN 0x41
#define TC_ATCA_OP_ECDH 0x43
#define TC_ATCA_OP_VERIFY 0x45
#define TC_ATCA_OP_SHA 0x47

/* Status bytes of a status-only response. */
#define TC_ATCA_ST_SUCCESS 0x00
#define TC_ATCA_ST_MISCOMPARE 0x01
#define TC_ATCA_ST_PARSE 0x03
#define TC_ATCA_ST_ECC_FAULT 0x05
#define TC_ATCA_ST_SELFTEST 0x07
#define TC_ATCA_ST_HEALTH 0x08
#define TC_ATCA_ST_EXECUTION 0x0F
#define TC_ATCA_ST_AFTER_WAKE 0x11
#define TC_ATCA_ST_WATCHDOG 0xEE
#define TC_ATCA_ST_COMM 0xFF

/* Zones for Read, Write and Lock. */
#define TC_ATCA_ZONE_CONFIG 0
#define TC_ATCA_ZONE_OTP 1
#define TC_ATCA_ZONE_DATA 2
#define TC_ATCA_ZONE_32 0x80

#define TC_ATCA_CONFIG_SIZE 128
#define TC_ATCA_OTP_SIZE 64
#define TC_ATCA_SLOTS 16
#define TC_ATCA_SN_SIZE 9
#define TC_ATCA_PUBKEY_SIZE 64
#define TC_ATCA_SIG_SIZE 64

/* A parsed command; data points into the packet it came from. */
struct tc_atca_cmd {
    uint8_t opcode;
    uint8_t param1;
    uint16_t param2;
    const uint8_t *data;
    size_t data_len;
};

/* CRC-16 of n bytes as the chip computes it (not yet split into bytes). */
uint16_t tc_atca_crc(const uint8_t *p, size_t n);

/*
 * Build a command packet into out (TC_ATCA_CMD_MAX bytes). Returns its
 * length, or 0 if data is too long for one packet.
 */
size_t tc_atca_build_cmd(uint8_t *out, uint8_t opcode, uint8_t param1,
                         uint16_t param2, const uint8_t *data, size_t n);

/*
 * Parse a command packet. TC_ERR_ATCA_COMM for a bad CRC or a count that
 * disagrees with n (the chip answers status 0xFF); TC_ERR_ATCA_PARSE for a
 * packet shorter than 7 bytes.
 */
int tc_atca_parse_cmd(const uint8_t *pkt, size_t n, struct tc_atca_cmd *cmd);

/* Build a response carrying n data bytes; returns its length. */
size_t tc_atca_build_rsp(uint8_t *out, const uint8_t *data, size_t n);

/* Build the 4-byte status-only response for status. */
size_t tc_atca_build_status(uint8_t *out, uint8_t status);

/*
 * Check a response: count matches n, CRC is right. On success *data and
 * *data_len describe its payload. A status-only response with a non-zero
 * status is returned as that status's error code (tc_atca_status_err).
 */
int tc_atca_parse_rsp(const uint8_t *pkt, size_t n, const uint8_t **data,
                      size_t *data_len);

/* The tc_err code for a status byte (TC_OK for 0x00). */
int tc_atca_status_err(uint8_t status);

/* The data zone: slot sizes, and byte offset of each slot in the zone. */
size_t tc_atca_slot_size(unsigned slot);
size_t tc_atca_slot_offset(unsigned slot);
#define TC_ATCA_DATA_SIZE 1208

/*
 * Address encoding for Read/Write: config and OTP use block<<3 | word; the
 * data zone uses slot<<3 | block<<8 | word.
 */
uint16_t tc_atca_addr(int zone, unsigned slot, unsigned block, unsigned word);

/*
 * Typical and maximum execution times of a command in milliseconds, for a
 * transport that polls the chip (I2C) rather than being told.
 */
unsigned tc_atca_exec_max_ms(uint8_t opcode);

#endif
