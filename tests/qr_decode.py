"""A small QR code reader for tests: PNG pixels back to the text they encode.

segno only encodes, and no decoder is a dependency, so the tests that check a
written QR code carries the right deep link read it back with this: a clean,
computer-written PNG (no rotation, no noise), so there is no error correction
here — a symbol that needs it is reported as unreadable instead. The steps
follow ISO/IEC 18004 as Project Nayuki's reference encoder lays them out
(format bits, function patterns, the zigzag, block interleaving); byte,
alphanumeric and numeric segments, versions 1–9.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

# Per error correction level (L, M, Q, H), for versions 0 (unused) to 9.
ECC_PER_BLOCK = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22),
    "Q": (0, 13, 22, 18, 26, 18, 24, 18, 22, 20),
    "H": (0, 17, 28, 22, 16, 22, 28, 26, 26, 24),
}
BLOCKS = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5),
    "Q": (0, 1, 1, 2, 2, 4, 4, 6, 6, 8),
    "H": (0, 1, 1, 2, 4, 4, 4, 5, 6, 8),
}
FORMAT_LEVEL = {1: "L", 0: "M", 3: "Q", 2: "H"}
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class Unreadable(ValueError):
    """The image is not a clean QR code this reader understands."""


def read_png(path: Path) -> list[list[bool]]:
    """Pixels of a greyscale PNG (bit depth 1 or 8) as rows of "dark" flags."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Unreadable("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if header is None:
        raise Unreadable("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if colour != 0 or depth not in (1, 8) or interlace:
        raise Unreadable(f"unsupported PNG: colour type {colour}, depth {depth}")
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    rows: list[list[bool]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        line = _unfilter(kind, line, previous, 1)
        previous = line
        if depth == 1:
            values = [(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)]
            rows.append([v == 0 for v in values])
        else:
            rows.append([line[x] < 128 for x in range(width)])
    return rows


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        corner = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise Unreadable(f"unknown PNG filter {kind}")
    return line


def modules(pixels: list[list[bool]]) -> list[list[bool]]:
    """The module matrix: finds the quiet zone and the module size from the top-left finder."""
    top = next(y for y, row in enumerate(pixels) if any(row))
    left = min(row.index(True) for row in pixels if any(row))
    finder = 0
    while pixels[top][left + finder]:
        finder += 1  # the finder's top edge is 7 modules wide
    scale = finder // 7
    right = max(len(row) - 1 - row[::-1].index(True) for row in pixels if any(row))
    size = (right - left + 1) // scale
    if scale < 1 or size < 21 or (size - 17) % 4:
        raise Unreadable(f"no QR symbol found (size {size}, scale {scale})")
    half = scale // 2
    return [
        [pixels[top + r * scale + half][left + c * scale + half] for c in range(size)]
        for r in range(size)
    ]


def _alignment_positions(version: int, size: int) -> list[int]:
    if version == 1:
        return []
    count = version // 7 + 2
    step = (version * 8 + count * 3 + 5) // (count * 4 - 4) * 2
    return sorted([size - 7 - i * step for i in range(count - 1)] + [6])


def _function_map(version: int, size: int) -> list[list[bool]]:
    """Which modules are finder, timing, alignment, format or version patterns."""
    taken = [[False] * size for _ in range(size)]

    def mark(r0: int, c0: int, rows: int, cols: int) -> None:
        for r in range(max(r0, 0), min(r0 + rows, size)):
            for c in range(max(c0, 0), min(c0 + cols, size)):
                taken[r][c] = True

    mark(0, 0, 9, 9)  # finder, separator, format bits
    mark(0, size - 8, 9, 8)
    mark(size - 8, 0, 8, 9)
    mark(6, 0, 1, size)  # timing
    mark(0, 6, size, 1)
    positions = _alignment_positions(version, size)
    last = len(positions) - 1
    for i, r in enumerate(positions):
        for j, c in enumerate(positions):
            if (i, j) not in ((0, 0), (0, last), (last, 0)):
                mark(r - 2, c - 2, 5, 5)
    if version >= 7:
        mark(0, size - 11, 6, 3)
        mark(size - 11, 0, 3, 6)
    return taken


def _mask(pattern: int, r: int, c: int) -> bool:
    return [
        (r + c) % 2 == 0,
        r % 2 == 0,
        c % 3 == 0,
        (r + c) % 3 == 0,
        (r // 2 + c // 3) % 2 == 0,
        r * c % 2 + r * c % 3 == 0,
        (r * c % 2 + r * c % 3) % 2 == 0,
        ((r + c) % 2 + r * c % 3) % 2 == 0,
    ][pattern]


def decode(matrix: list[list[bool]]) -> str:
    """The text of a clean QR symbol given as its module matrix (``True``: dark)."""
    size = len(matrix)
    version = (size - 17) // 4
    if not 1 <= version <= 9:
        raise Unreadable(f"version {version} is beyond this reader")
    bits = 0
    places = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)]
    places += [(8, 14 - i) for i in range(9, 15)]
    for i, (r, c) in enumerate(places):
        bits |= matrix[r][c] << i
    bits ^= 0x5412
    level, pattern = FORMAT_LEVEL[bits >> 13], (bits >> 10) & 7
    taken = _function_map(version, size)
    stream: list[int] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vertical in range(size):
            for j in range(2):
                c = right - j
                upward = ((right + 1) & 2) == 0
                r = size - 1 - vertical if upward else vertical
                if not taken[r][c]:
                    stream.append(int(matrix[r][c] != _mask(pattern, r, c)))
        right -= 2
    codewords = [int("".join(map(str, stream[i : i + 8])), 2) for i in range(0, len(stream) - 7, 8)]
    data = _deinterleave(codewords, version, level)
    return _segments(data, version)


def _deinterleave(codewords: list[int], version: int, level: str) -> list[int]:
    blocks, ecc = BLOCKS[level][version], ECC_PER_BLOCK[level][version]
    short_blocks = blocks - len(codewords) % blocks
    short_length = len(codewords) // blocks
    lengths = [short_length - ecc + (0 if b < short_blocks else 1) for b in range(blocks)]
    data: list[list[int]] = [[] for _ in range(blocks)]
    index = 0
    for i in range(max(lengths)):
        for b in range(blocks):
            if i < lengths[b]:
                data[b].append(codewords[index])
                index += 1
    return [byte for block in data for byte in block]


def _segments(data: list[int], version: int) -> str:
    bits = "".join(f"{byte:08b}" for byte in data)
    pos, text = 0, []

    def take(n: int) -> int:
        nonlocal pos
        value = int(bits[pos : pos + n], 2)
        pos += n
        return value

    while pos + 4 <= len(bits):
        mode = take(4)
        if mode == 0:
            break
        if mode == 0b0100:
            count = take(8)
            text.append(bytes(take(8) for _ in range(count)).decode("utf-8"))
        elif mode == 0b0010:
            count = take(9)
            for _ in range(count // 2):
                pair = take(11)
                text.append(ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45])
            if count % 2:
                text.append(ALPHANUMERIC[take(6)])
        elif mode == 0b0001:
            count = take(10)
            digits = ""
            while len(digits) + 3 <= count:
                digits += f"{take(10):03d}"
            rest = count - len(digits)
            if rest:
                digits += f"{take(3 * rest + 1):0{rest}d}"
            text.append(digits)
        else:
            raise Unreadable(f"segment mode {mode:04b} is beyond this reader")
    return "".join(text)


def read_qr(path: Path) -> str:
    """The text the QR code in the PNG at ``path`` encodes."""
    return decode(modules(read_png(path)))
