"""Hashing, identifier and network converters (reference: pkg/ottl/ottlfuncs).

SHA1 / SHA256 / SHA512 / MD5 / FNV / Murmur3Hash / Murmur3Hash128 / XXH3 / XXH128 hash the UTF-8
bytes of a string (the strict string getter: nil and non-strings are errors). CommunityID builds the
Community ID v1 flow hash, IsValidLuhn checks a Luhn digit, IsInCIDR tests an address against
networks, TraceID / SpanID / ProfileID build identifiers and UUID / UUIDv7 make random ids.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import struct
import threading
import time
import uuid
from typing import Any, Optional

import mmh3
import xxhash

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.getters import ExprFunc, Getter
from ottl.eval.values import ProfileID, SpanID, TraceID, type_name


def _utf8(s: str) -> bytes:
    # Strings may carry undecodable bytes as surrogate escapes (see getters.bytes_like).
    return s.encode("utf-8", "surrogateescape")


# --- digests -------------------------------------------------------------------------------------


def _hex_digest(algorithm: str):
    def factory(args: Args) -> ExprFunc:
        target: Getter = args["target"]

        def run(ctx: Any) -> str:
            return hashlib.new(algorithm, _utf8(target.string(ctx))).hexdigest()

        return run

    return factory


implements("SHA1")(_hex_digest("sha1"))
implements("SHA256")(_hex_digest("sha256"))
implements("SHA512")(_hex_digest("sha512"))
implements("MD5")(_hex_digest("md5"))

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_U64 = (1 << 64) - 1


def fnv1a_64(data: bytes) -> int:
    """FNV-1a, 64 bits (Go's hash/fnv New64a)."""
    h = _FNV64_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV64_PRIME) & _U64
    return h


@implements("FNV")
def fnv(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> int:
        h = fnv1a_64(_utf8(target.string(ctx)))
        # Go converts the uint64 sum to int64.
        return h - (1 << 64) if h >= 1 << 63 else h

    return run


@implements("Murmur3Hash")
def murmur3_hash(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> str:
        h = mmh3.hash(_utf8(target.string(ctx)), 0, signed=False)
        return h.to_bytes(4, "little").hex()

    return run


@implements("Murmur3Hash128")
def murmur3_hash128(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> str:
        # h1 then h2, each little-endian: the x64 128-bit digest as mmh3 lays it out.
        return mmh3.hash_bytes(_utf8(target.string(ctx)), 0, x64arch=True).hex()

    return run


@implements("XXH3")
def xxh3(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> str:
        return xxhash.xxh3_64_hexdigest(_utf8(target.string(ctx)))

    return run


@implements("XXH128")
def xxh128(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> str:
        return xxhash.xxh3_128_hexdigest(_utf8(target.string(ctx)))

    return run


# --- IP addresses (Go's net.ParseIP / net.ParseCIDR) ---------------------------------------------


def parse_ip(text: str) -> Optional[ipaddress._BaseAddress]:
    """net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 without a zone; IPv4-mapped IPv6
    addresses count as IPv4 (Go's To4). None when it is not an address."""
    if "%" in text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def parse_cidr(text: str) -> ipaddress._BaseNetwork:
    """net.ParseCIDR: an address and a prefix length; host bits are masked off. A network written
    as an IPv4-mapped IPv6 prefix of at least 96 bits acts as the IPv4 network (as Go's To4)."""
    addr_text, sep, bits = text.partition("/")
    if not sep or "%" in addr_text or not bits.isascii() or not bits.isdigit():
        raise EvalError(f"invalid CIDR address: {text}")
    try:
        raw = ipaddress.ip_address(addr_text)
        if raw.version == 4:
            net = ipaddress.IPv4Network((int(raw), int(bits)), strict=False)
        else:
            net = ipaddress.IPv6Network((int(raw), int(bits)), strict=False)
    except ValueError:
        raise EvalError(f"invalid CIDR address: {text}") from None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and raw.ipv4_mapped is not None:
        return ipaddress.IPv4Network((int(raw) & 0xFFFFFFFF, net.prefixlen - 96), strict=False)
    return net


def _ip_bytes(addr: ipaddress._BaseAddress) -> bytes:
    return addr.packed


# --- CommunityID ---------------------------------------------------------------------------------

_PROTOCOLS = {"ICMP": 1, "TCP": 6, "UDP": 17, "RSVP": 46, "ICMP6": 58, "SCTP": 132}


@implements("CommunityID")
def community_id(args: Args) -> ExprFunc:
    src_ip: Getter = args["source_ip"]
    src_port: Getter = args["source_port"]
    dst_ip: Getter = args["destination_ip"]
    dst_port: Getter = args["destination_port"]
    protocol: Optional[Getter] = args.get("protocol")
    seed: Optional[Getter] = args.get("seed")

    def run(ctx: Any) -> str:
        try:
            src_text = src_ip.string(ctx)
        except EvalError as exc:
            raise EvalError(f"failed to get source IP: {exc}") from None
        try:
            dst_text = dst_ip.string(ctx)
        except EvalError as exc:
            raise EvalError(f"failed to get destination IP: {exc}") from None
        try:
            sport = src_port.int(ctx)
        except EvalError as exc:
            raise EvalError(f"failed to get source port: {exc}") from None
        if not 1 <= sport <= 65535:
            raise EvalError(f"source port must be between 1 and 65535, got {sport}")
        try:
            dport = dst_port.int(ctx)
        except EvalError as exc:
            raise EvalError(f"failed to get destination port: {exc}") from None
        if not 1 <= dport <= 65535:
            raise EvalError(f"destination port must be between 1 and 65535, got {dport}")
        proto = _PROTOCOLS["TCP"]
        if protocol is not None:
            try:
                name = protocol.string(ctx)
            except EvalError as exc:
                raise EvalError(f"failed to get protocol: {exc}") from None
            proto = _PROTOCOLS.get(name, 0)
            if proto == 0:
                raise EvalError(f"unsupported protocol: {name}")
        src = parse_ip(src_text)
        if src is None:
            raise EvalError(f"invalid source IP: {src_text}")
        dst = parse_ip(dst_text)
        if dst is None:
            raise EvalError(f"invalid destination IP: {dst_text}")
        seed_value = 0
        if seed is not None:
            try:
                seed_value = seed.int(ctx)
            except EvalError as exc:
                raise EvalError(f"failed to get seed: {exc}") from None
            if not 0 <= seed_value <= 65535:
                raise EvalError(f"seed must be between 0 and 65535, got {seed_value}")
        sb, db = _ip_bytes(src), _ip_bytes(dst)
        # Normalise the direction: the smaller endpoint first.
        swap = len(sb) > len(db) if len(sb) != len(db) else (sb > db or (sb == db and sport > dport))
        if swap:
            sb, db, sport, dport = db, sb, dport, sport
        flow = struct.pack(">H", seed_value) + sb + db + bytes((proto, 0)) + struct.pack(">HH", sport, dport)
        return "1:" + base64.b64encode(hashlib.sha1(flow).digest()).decode("ascii")

    return run


# --- IsValidLuhn ---------------------------------------------------------------------------------


def _atoi_digit(ch: str) -> int:
    if "0" <= ch <= "9":
        return ord(ch) - 48
    raise EvalError(f'strconv.Atoi: parsing "{ch}": invalid syntax')


@implements("IsValidLuhn")
def is_valid_luhn(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> bool:
        value = target.string_like(ctx)
        if value is None:
            raise EvalError("invalid input: <nil>")
        # The reference walks bytes; a non-ASCII byte fails to parse as a digit as well.
        digits = _utf8(value.replace(" ", "")).decode("latin-1")
        if not digits:
            return False
        check = _atoi_digit(digits[-1])
        total = 0
        double = True
        for ch in reversed(digits[:-1]):
            n = _atoi_digit(ch)
            if double:
                n *= 2
                if n > 9:
                    n -= 9
            total += n
            double = not double
        return (10 - total % 10) % 10 == check

    return run


# --- IsInCIDR ------------------------------------------------------------------------------------


def _contains(net: ipaddress._BaseNetwork, addr: ipaddress._BaseAddress) -> bool:
    return net.version == addr.version and addr in net


@implements("IsInCIDR")
def is_in_cidr(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    networks = args["networks"]

    literal_networks = None
    if isinstance(networks, list) and all(isinstance(g, Getter) and g.is_literal for g in networks):
        literal_networks = []
        for g in networks:
            if not isinstance(g.literal, str):
                literal_networks = None
                break
            literal_networks.append(parse_cidr(g.literal))

    def network_texts(ctx: Any):
        if isinstance(networks, Getter):
            values = networks.get(ctx)
            if values is None:
                raise EvalError("networks cannot be nil")
            if not isinstance(values, list):
                raise EvalError(f"expected slice but got {type_name(values)}")
            for v in values:
                if not isinstance(v, str):
                    raise EvalError(f"expected string but got {'nil' if v is None else type_name(v)}")
                yield v
            return
        for g in networks:
            yield g.string(ctx)

    def run(ctx: Any) -> bool:
        addr = parse_ip(target.string(ctx))
        if addr is None:
            return False
        if literal_networks is not None:
            return any(_contains(n, addr) for n in literal_networks)
        for text in network_texts(ctx):
            if _contains(parse_cidr(text), addr):
                return True
        return False

    return run


# --- TraceID / SpanID / ProfileID ----------------------------------------------------------------


def _id_factory(kind: str, size: int, wrap):
    def factory(args: Args) -> ExprFunc:
        target: Getter = args["target"]

        def run(ctx: Any):
            raw = target.bytes_like(ctx)
            if raw is None:
                raw = b""
            if len(raw) == size:
                return wrap(raw)
            if len(raw) == 2 * size:
                for i, b in enumerate(raw):
                    if chr(b) not in "0123456789abcdefABCDEF":
                        raise EvalError(f"invalid {kind} id hex: encoding/hex: invalid byte: {_go_rune(raw, i)}")
                return wrap(bytes.fromhex(raw.decode("ascii")))
            raise EvalError(
                f"invalid {kind} id length: expected {size} or {2 * size} bytes, got {len(raw)}"
            )

        return run

    return factory


def _go_rune(raw: bytes, i: int) -> str:
    """How Go's hex.InvalidByteError names the byte: U+0067 'g'."""
    b = raw[i]
    ch = chr(b)
    shown = repr(ch)[1:-1] if b < 0x80 else "\\x%02x" % b
    if b < 0x80 and ch.isprintable() and ch != "'":
        shown = ch
    return f"U+{b:04X} '{shown}'"


implements("TraceID")(_id_factory("trace", 16, TraceID))
implements("SpanID")(_id_factory("span", 8, SpanID))
implements("ProfileID")(_id_factory("profile", 16, ProfileID))


# --- UUID / UUIDv7 -------------------------------------------------------------------------------


@implements("UUID")
def uuid4(args: Args) -> ExprFunc:
    def run(ctx: Any) -> str:
        return str(uuid.uuid4())

    return run


_V7_LOCK = threading.Lock()
_V7_LAST = [0]


def new_uuid7() -> str:
    """A version 7 UUID: 48 bits of Unix milliseconds, then 12 bits of sub-millisecond time kept
    strictly increasing (as Google's uuid.NewV7 does), then 62 random bits."""
    with _V7_LOCK:
        now = time.time_ns()
        ms = now // 1_000_000
        seq = ((now % 1_000_000) * 4096) // 1_000_000
        stamp = (ms << 12) | seq
        if stamp <= _V7_LAST[0]:
            stamp = _V7_LAST[0] + 1
        _V7_LAST[0] = stamp
    ms, seq = stamp >> 12, stamp & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big")
    value = (ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


@implements("UUIDv7")
def uuid7(args: Args) -> ExprFunc:
    def run(ctx: Any) -> str:
        return new_uuid7()

    return run
