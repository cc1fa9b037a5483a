/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kit protocol's ASCII lines (Microchip's CryptoAuth kit, protocol v1),
 * both directions: parse and format a host's command line, parse and format
 * the kit's reply. The emulator daemon and the client transports share it,
 * so both sides agree on every byte and every bound.
 *
 * Host line (reference/trustngo-atecc608.md, "Kit protocol v1"), keywords in
 * either case, HEX in either case, ending in "\n" with an optional "\r":
 *
 *   board:device(HH)                 which device sits at index HH
 *   T:physical:select(HH)            select the device at I2C address HH
 *   T:physical:interface:NAME        choose the bus (answered, ignored)
 *   T:w()  T:i()  T:s()              wake, idle, sleep
 *   T:t(HEX)                         transmit a command packet, get reply
 *   T := "E" | "e"                   the ECC device family
 *
 * NUL bytes before a line are skipped (hosts write fixed-size buffers).
 * Reply line:  [PREFIX " "] SS "(" HEX ")" "\n", SS the kit status below,
 * HEX upper-case; board:device answers with PREFIX "ECC608 TWI".
 *
 * Limitations: only the ECC family and the commands above; no kit v2
 * binary framing, no SWI/SPI bus selection (interface lines are accepted
 * and have no effect).
 */
#ifndef THINGCORE_KIT_H
#define THINGCORE_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/atca.h"
#include "thingcore/err.h"

/*
 * Longest line either side accepts, newline included. The longest valid
 * host line is "E:t(" + 2 * TC_KIT_DATA_MAX digits + ")\r\n" = 311 bytes.
 */
#define TC_KIT_LINE_MAX 400

/* Most bytes one line carries: a command packet plus a word address. */
#define TC_KIT_DATA_MAX (TC_ATCA_CMD_MAX + 1)

/* Longest reply PREFIX ("ECC608 TWI"). */
#define TC_KIT_PREFIX_MAX 31

/*
 * Kit status bytes. 00 is success; the others follow the numbering of
 * the host library's status codes so a host reports a familiar name.
 */
#define TC_KIT_ST_OK 0x00
#define TC_KIT_ST_SYNTAX 0xE1      /* not NAME(ARGS): garbage */
#define TC_KIT_ST_BAD_ARG 0xE2     /* bad hex, odd digits, wrong size */
#define TC_KIT_ST_TOO_LONG 0xE4    /* line longer than TC_KIT_LINE_MAX */
#define TC_KIT_ST_NO_RESPONSE 0xE7 /* chip asleep or idle: no answer */
#define TC_KIT_ST_STORAGE 0xF0     /* chip image could not be saved */
#define TC_KIT_ST_UNKNOWN 0xF5     /* well-formed but unknown command */
#define TC_KIT_ST_NO_DEVICE 0xF9   /* no device at that index/address */

enum tc_kit_cmd {
    TC_KIT_BOARD_DEVICE = 1,
    TC_KIT_SELECT,
    TC_KIT_INTERFACE,
    TC_KIT_WAKE,
    TC_KIT_IDLE,
    TC_KIT_SLEEP,
    TC_KIT_TRANSMIT,
};

/* A parsed host line. data holds the argument bytes (HH or HEX). */
struct tc_kit_line {
    enum tc_kit_cmd cmd;
    uint8_t status; /* on a parse failure: the kit status to answer */
    uint8_t data[TC_KIT_DATA_MAX];
    size_t len;
};

/*
 * Parse one host line of n bytes (line is borrowed, not NUL-terminated;
 * a trailing "\n" and "\r" are optional). TC_OK fills out. A line that
 * is empty once NULs and the line end are removed is TC_ERR_NOT_FOUND
 * (nothing to answer). Anything else refused is TC_ERR_ATCA_KIT with
 * out->status set to the kit status to answer and d naming the offset
 * and the reason.
 */
int tc_kit_parse_line(const char *line, size_t n, struct tc_kit_line *out,
                      struct tc_detail *d);

/*
 * Format a host line for cmd with n argument bytes into out (cap bytes),
 * NUL-terminated, "\n" included. Returns its length without the NUL, or
 * 0 when it does not fit or n is wrong for cmd. target is 'E'.
 */
size_t tc_kit_format_line(char *out, size_t cap, enum tc_kit_cmd cmd,
                          const uint8_t *data, size_t n);

/* A parsed reply. */
struct tc_kit_reply {
    char prefix[TC_KIT_PREFIX_MAX + 1];
    uint8_t status;
    uint8_t data[TC_KIT_DATA_MAX];
    size_t len;
};

/*
 * Parse one reply line of n bytes (borrowed; trailing "\n"/"\r"
 * optional). TC_ERR_ATCA_KIT with d for anything not of the reply form.
 * A non-zero status is not an error here: the caller reads out->status.
 */
int tc_kit_parse_reply(const char *line, size_t n, struct tc_kit_reply *out,
                       struct tc_detail *d);

/*
 * Format a reply into out (cap bytes, NUL-terminated, "\n" included).
 * prefix may be NULL. Returns the length without the NUL, or 0 when it
 * does not fit.
 */
size_t tc_kit_format_reply(char *out, size_t cap, const char *prefix,
                           uint8_t status, const uint8_t *data, size_t n);

/* A short name for a kit status ("no response from device"). */
const char *tc_kit_status_text(uint8_t status);

#endif
