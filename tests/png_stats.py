#!/usr/bin/env python3
"""png_stats.py PNG [X0 Y0 X1 Y1] -- how much a screenshot shows, for tests/html_chromium.sh.

Decodes an 8-bit RGB or RGBA PNG (what headless Chromium writes) with the standard library
only and prints, for the whole image or the box [X0, X1) x [Y0, Y1):
    WIDTH HEIGHT COLOURS DOMINANT_SHARE NONWHITE_SHARE
COLOURS counts distinct colours; DOMINANT_SHARE is the share of pixels of the most common
colour; NONWHITE_SHARE the share that is not (near) white.  A blank or one-colour picture has
one colour and a dominant share of 1.
"""
import struct
import sys
import zlib
from collections import Counter


def decode(path, last_row=None):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("only 8-bit RGB/RGBA without interlacing")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height if last_row is None else min(height, last_row)):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    box = [int(v) for v in sys.argv[2:6]] if len(sys.argv) == 6 else None
    width, height, bpp, rows = decode(sys.argv[1], box[3] if box else None)
    x0, y0, x1, y1 = box if box else (0, 0, width, height)
    x1, y1 = min(x1, width), min(y1, len(rows))
    counts = Counter()
    for y in range(y0, y1):
        row = rows[y]
        for x in range(x0, x1):
            counts[row[x * bpp:x * bpp + 3]] += 1
    total = sum(counts.values()) or 1
    nonwhite = sum(n for c, n in counts.items() if min(c) < 240)
    print(width, height, len(counts), "%.4f" % (counts.most_common(1)[0][1] / total),
          "%.4f" % (nonwhite / total))


if __name__ == "__main__":
    main()
