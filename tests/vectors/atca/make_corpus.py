#!/usr/bin/env python3
# Writes seed inputs for fuzz/atca_packet and fuzz/chip_execute: valid
# packets for every command the chip knows, framed as the targets expect.
# Run from the repository root: python3 tests/vectors/atca/make_corpus.py
import os


def crc(data):
    reg = 0
    for b in data:
        for i in range(8):
            bit = (b >> i) & 1
            top = reg >> 15
            reg = (reg << 1) & 0xFFFF
            if bit != top:
                reg ^= 0x8005
    return bytes([reg & 0xFF, reg >> 8])


def cmd(op, p1, p2, data=b""):
    body = bytes([7 + len(data), op, p1, p2 & 0xFF, p2 >> 8]) + data
    return body + crc(body)


def rsp(data):
    body = bytes([len(data) + 3]) + data
    return body + crc(body)


packets = {
    "info": cmd(0x30, 0, 0),
    "read_config": cmd(0x02, 0x80, 0),
    "read_slot10": cmd(0x02, 0x82, 0x50),
    "read_word": cmd(0x02, 0x00, 0x15),
    "write_slot8": cmd(0x12, 0x82, 0x40, bytes(range(32))),
    "random": cmd(0x1B, 0, 0),
    "nonce_mdb": cmd(0x16, 0x43, 0, bytes(32)),
    "nonce_rand": cmd(0x16, 0x00, 0, bytes(20)),
    "genkey_pub": cmd(0x40, 0, 0),
    "sign_mdb": cmd(0x41, 0xA0, 0),
    "verify": cmd(0x45, 0x22, 4, bytes(128)),
    "ecdh": cmd(0x43, 0x0C, 0, bytes(64)),
    "sha_start": cmd(0x47, 0, 0),
    "lock_slot": cmd(0x17, 0x82 | (2 << 2), 0),
}

os.makedirs("fuzz/corpus/atca_packet", exist_ok=True)
os.makedirs("fuzz/corpus/chip_execute", exist_ok=True)
for name, p in packets.items():
    open(f"fuzz/corpus/atca_packet/{name}", "wb").write(p)
open("fuzz/corpus/atca_packet/rsp_status", "wb").write(rsp(b"\x00"))
open("fuzz/corpus/atca_packet/rsp_32", "wb").write(rsp(bytes(32)))
open("fuzz/corpus/atca_packet/short", "wb").write(b"\x07\x30")


def seq(*pkts):
    out = b"\x00"
    for p in pkts:
        out += bytes([len(p)]) + p
    return out


open("fuzz/corpus/chip_execute/sign", "wb").write(
    seq(packets["random"], packets["nonce_mdb"], packets["sign_mdb"]))
open("fuzz/corpus/chip_execute/reads", "wb").write(
    seq(packets["read_config"], packets["read_slot10"], packets["read_word"],
        cmd(0x02, 0x82, 0x00), cmd(0x02, 0x02, 0x00)))
open("fuzz/corpus/chip_execute/sha", "wb").write(
    seq(packets["sha_start"], cmd(0x47, 0x01, 64, bytes(64)),
        cmd(0x47, 0x02, 3, b"abc")))
open("fuzz/corpus/chip_execute/misc", "wb").write(
    seq(packets["info"], packets["genkey_pub"], packets["nonce_rand"],
        cmd(0x41, 0x80, 0), packets["ecdh"], packets["verify"],
        packets["write_slot8"], packets["lock_slot"]) + b"\x01\x02\x00")
