#!/usr/bin/env python3
"""Writes the seed corpus for pgoutput_fuzzer: well-formed message sequences
of every message type, in the fuzzer's input format (mode byte, then
2-byte-length-prefixed messages). Regenerate with:
    python3 tests/fuzz/make_pgoutput_corpus.py tests/fuzz/corpus/pgoutput
Crash reproducers found by fuzzing are added to the same folder by hand."""
import os
import struct
import sys

TS = 754833600000000


def s(text):
    return text.encode() + b"\0"


def col(kind, data=b""):
    if kind in (b"t", b"b"):
        return kind + struct.pack(">I", len(data)) + data
    return kind


def relation(xid=None):
    body = b"R" + (struct.pack(">I", xid) if xid else b"") + struct.pack(">I", 16385)
    body += s("public") + s("users") + b"d" + struct.pack(">H", 3)
    body += b"\x01" + s("id") + struct.pack(">Ii", 20, -1)
    body += b"\x00" + s("name") + struct.pack(">Ii", 25, -1)
    body += b"\x00" + s("at") + struct.pack(">Ii", 1184, -1)
    return body


def insert(i, xid=None):
    return (b"I" + (struct.pack(">I", xid) if xid else b"") + struct.pack(">I", 16385) + b"N"
            + struct.pack(">H", 3) + col(b"t", str(i).encode()) + col(b"t", b"name")
            + col(b"t", b"2024-01-01 00:00:00+00"))


begin = b"B" + struct.pack(">QqI", 0x1000, TS, 700)
commit = b"C\x00" + struct.pack(">QQq", 0x1FF8, 0x2000, TS)
update = (b"U" + struct.pack(">I", 16385) + b"K" + struct.pack(">H", 3) + col(b"t", b"1") + col(b"n")
          + col(b"n") + b"N" + struct.pack(">H", 3) + col(b"t", b"2") + col(b"u") + col(b"n"))
delete = b"D" + struct.pack(">I", 16385) + b"O" + struct.pack(">H", 3) + col(b"t", b"2") + col(b"n") + col(b"n")
truncate = b"T" + struct.pack(">IB", 1, 3) + struct.pack(">I", 16385)
message = b"M\x01" + struct.pack(">Q", 0x10) + s("p") + struct.pack(">I", 3) + b"abc"
typ = b"Y" + struct.pack(">I", 16400) + s("public") + s("mood")
origin = b"O" + struct.pack(">Q", 0x10) + s("node")

CASES = {
    "tx_v1": (0, [begin, typ, relation(), insert(1), update, delete, truncate, message, origin, commit]),
    "stream_v2": (1, [b"S" + struct.pack(">IB", 900, 1), relation(900), insert(1, 900), insert(2, 901), b"E",
                      b"A" + struct.pack(">II", 900, 901),
                      b"S" + struct.pack(">IB", 900, 0), insert(3, 900), b"E",
                      b"c" + struct.pack(">IBQQq", 900, 0, 0x2FF8, 0x3000, TS)]),
    "stream_abort_v4_parallel": (3 | 8, [b"S" + struct.pack(">IB", 5, 1), relation(5), insert(1, 5), b"E",
                                         b"A" + struct.pack(">IIQq", 5, 5, 0x4000, TS)]),
    "two_phase_v3": (2, [b"b" + struct.pack(">QQqI", 0x500, 0x530, TS, 77) + s("gid"),
                         b"P\x00" + struct.pack(">QQqI", 0x500, 0x530, TS, 77) + s("gid"),
                         b"K\x00" + struct.pack(">QQqI", 0x600, 0x630, TS, 77) + s("gid"),
                         b"r\x00" + struct.pack(">QQqqI", 0x530, 0x700, TS, TS, 77) + s("gid"),
                         b"p\x00" + struct.pack(">QQqI", 0x500, 0x530, TS, 78) + s("gid2")]),
    "in_stream_single_insert": (3 | 4, [insert(7, 900)]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (mode, messages) in CASES.items():
        data = bytes([mode]) + b"".join(struct.pack(">H", len(m)) + m for m in messages)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        # Each single message on its own as well (the whole-input decode path).
        for i, m in enumerate(messages):
            with open(os.path.join(out, f"{name}_msg{i}"), "wb") as f:
                f.write(bytes([mode]) + m)


if __name__ == "__main__":
    main()
