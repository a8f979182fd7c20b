"""Hashing, identifier and network converters, checked against the reference's test tables."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import Getter
from ottl.eval.values import PMap, SpanID, TraceID

load_all()

C = Getter.constant


_OPTIONAL = {"protocol", "seed"}


def run(name: str, **kwargs):
    # An optional argument given as None is left out; any other None is a nil value.
    args = {
        k: (v if isinstance(v, (Getter, list)) or (v is None and k in _OPTIONAL) else C(v))
        for k, v in kwargs.items()
    }
    return IMPLEMENTATIONS[name](args)(None)


# =================================================================================================
# digests
# =================================================================================================


@pytest.mark.parametrize(
    "name, value, want",
    [
        ("SHA1", "hello world", "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"),
        ("SHA1", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("SHA1", "大大大茄子", "26e73b13780881121765168ff86a4b2190ca39b1"),
        ("SHA256", "hello world", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
        ("SHA256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("SHA256", "Hello, world!", "315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3"),
        (
            "SHA512",
            "",
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        ),
        (
            "SHA512",
            "foo bar",
            "65019286222ace418f742556366f9b9da5aaf6797527d2f0cba5bfe6b2f8ed24746542a0f2be1da8d63c2477f688b608eb53628993afa624f378b03f10090ce7",
        ),
        ("MD5", "hello world", "5eb63bbbe01eeed093cb22bb8f5acdc3"),
        ("MD5", "", "d41d8cd98f00b204e9800998ecf8427e"),
        ("FNV", "hello world", 8618312879776256743),
        ("FNV", "", -3750763034362895579),
        ("Murmur3Hash", "Hello World", "ce837619"),
        ("Murmur3Hash", "", "00000000"),
        ("Murmur3Hash128", "Hello World", "dbc2a0c1ab26631a27b4c09fcf1fe683"),
        ("Murmur3Hash128", "", "00000000000000000000000000000000"),
        ("XXH3", "hello world", "d447b1ea40e6988b"),
        ("XXH3", "", "2d06800538d394c2"),
        ("XXH128", "hello world", "df8d09e93f874900a99b8775cc15b6c7"),
        ("XXH128", "", "99aa06d3014798d86001c324468d497f"),
    ],
)
def test_digests(name, value, want):
    assert run(name, target=value) == want


@pytest.mark.parametrize("name", ["SHA1", "SHA256", "SHA512", "MD5", "FNV", "Murmur3Hash", "Murmur3Hash128", "XXH3", "XXH128"])
@pytest.mark.parametrize(
    "value, message",
    [
        (10, "expected string but got int64"),
        (None, "expected string but got nil"),
        (b"x", "expected string but got []uint8"),
        (PMap({"a": 1}), "expected string but got pcommon.Map"),
    ],
)
def test_digests_need_strings(name, value, message):
    with pytest.raises(EvalError, match=re.escape(message)):
        run(name, target=value)


def test_fnv_wraps_to_int64():
    got = run("FNV", target="name")
    assert -(1 << 63) <= got < (1 << 63)


# =================================================================================================
# CommunityID
# =================================================================================================


@pytest.mark.parametrize(
    "src, dst, sport, dport, proto, seed, want",
    [
        ("1.2.3.4", "5.6.7.8", 12345, 80, "TCP", 0, "1:0by3b/tE95hcOzccyt6d4kjgbZc="),
        ("5.6.7.8", "1.2.3.4", 80, 12345, "TCP", 0, "1:0by3b/tE95hcOzccyt6d4kjgbZc="),
        ("192.168.1.1", "10.10.10.10", 53, 53000, "UDP", 0, "1:gQ05/45srnixHs8V/2ejpkxhBwg="),
        ("10.10.10.10", "192.168.1.1", 53000, 53, "ICMP", 0, "1:9TGPWejPFuBlKrHuVcM3iaA8hf8="),
        ("10.10.10.10", "192.168.1.1", 53, 53000, "RSVP", 0, "1:rkXhRghBvx2yf3zgDnSHuJ35XaY="),
        ("192.168.1.1", "10.10.10.10", 53, 53000, "ICMP6", 0, "1:bchQ2SAoVf2Iq1XdGBXObLJ2i64="),
        ("192.168.1.1", "10.10.10.10", 53, 53000, "SCTP", 0, "1:zo1kfEyhghMaeU7tQDCE2G+ITQc="),
        ("2001:db8::1", "2001:db8::2", 8080, 443, "TCP", 0, "1:c5m26SNBLmvfaBQJNWKXZwUGGcM="),
        ("192.168.1.1", "192.168.1.2", 12345, 80, "TCP", 1234, "1:v1n8p4IZW9jXIJnFANLbRU2ahdU="),
        ("10.0.0.2", "10.0.0.1", 80, 12345, "TCP", 0, "1:CpuULklTENbGdRpvp7gNcQd5ZqA="),
        ("127.0.0.1", "127.0.0.1", 8080, 8080, "TCP", 0, "1:sG2vk7rcZ12ZxPg+nnwljgdVEGw="),
        ("2001:db8::1", "10.1.1.1", 8080, 443, "TCP", 0, "1:T1e3va6jTSWaSKkG3k4dnZq5VM8="),
        ("10.1.1.1", "10.1.1.2", 8080, 8079, "TCP", 0, "1:1fjNfFLjLTsO2WE9AY0TbTeSaBs="),
        ("10.1.1.2", "10.1.1.1", 8079, 8080, "TCP", 0, "1:1fjNfFLjLTsO2WE9AY0TbTeSaBs="),
        ("10.1.1.2", "10.1.1.2", 8081, 8080, "TCP", 0, "1:3byUvmBpOu8KHoTRr4eN5AjTQEU="),
        ("10.1.1.2", "10.1.1.2", 8080, 8081, "TCP", 0, "1:3byUvmBpOu8KHoTRr4eN5AjTQEU="),
    ],
)
def test_community_id(src, dst, sport, dport, proto, seed, want):
    got = run(
        "CommunityID", source_ip=src, source_port=sport, destination_ip=dst, destination_port=dport, protocol=proto, seed=seed
    )
    assert got == want


def test_community_id_defaults_to_tcp_and_seed_zero():
    got = run(
        "CommunityID", source_ip="1.2.3.4", source_port=12345, destination_ip="5.6.7.8", destination_port=80, protocol=None, seed=None
    )
    assert got == "1:0by3b/tE95hcOzccyt6d4kjgbZc="


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(source_ip="invalid-ip", destination_ip="10.0.0.1"), "invalid source IP: invalid-ip"),
        (dict(destination_ip="10.0.0.01"), "invalid destination IP: 10.0.0.01"),
        (dict(protocol="UNKNOWN"), "unsupported protocol: UNKNOWN"),
        (dict(source_port=0), "source port must be between 1 and 65535, got 0"),
        (dict(destination_port=65536), "destination port must be between 1 and 65535, got 65536"),
        (dict(seed=-1), "seed must be between 0 and 65535, got -1"),
        (dict(seed=65536), "seed must be between 0 and 65535, got 65536"),
        (dict(source_ip=None), "failed to get source IP: expected string but got nil"),
        (dict(destination_port="80"), "failed to get destination port: expected int64 but got string"),
        (dict(source_ip="fe80::1%eth0"), "invalid source IP"),
    ],
)
def test_community_id_errors(kwargs, match):
    base = dict(source_ip="10.0.0.1", source_port=80, destination_ip="10.0.0.2", destination_port=12345, protocol="TCP", seed=0)
    base.update(kwargs)
    args = {k: C(v) for k, v in base.items()}
    with pytest.raises(EvalError, match=re.escape(match)):
        IMPLEMENTATIONS["CommunityID"](args)(None)


# =================================================================================================
# IsValidLuhn
# =================================================================================================


@pytest.mark.parametrize(
    "value, want",
    [
        ("17893729974", True),
        ("17893729975", False),
        (17893729974, True),
        ("4111 1111 1111 1111", True),
        ("79927398713", True),
        ("79927398710", False),
        ("0", True),
        ("", False),
        ("   ", False),
    ],
)
def test_is_valid_luhn(value, want):
    assert run("IsValidLuhn", target=value) is want


@pytest.mark.parametrize(
    "value, match",
    [
        ("A", 'strconv.Atoi: parsing "A": invalid syntax'),
        ("12a4", 'strconv.Atoi: parsing "a": invalid syntax'),
        ("-123", 'strconv.Atoi: parsing "-": invalid syntax'),
        (None, "invalid input: <nil>"),
    ],
)
def test_is_valid_luhn_errors(value, match):
    with pytest.raises(EvalError, match=re.escape(match)):
        run("IsValidLuhn", target=value)


def test_is_valid_luhn_converts_like_a_string():
    # 1.5 becomes "1.5": the '.' is not a digit.
    with pytest.raises(EvalError, match="invalid syntax"):
        run("IsValidLuhn", target=1.5)


# =================================================================================================
# IsInCIDR
# =================================================================================================


@pytest.mark.parametrize(
    "target, networks, want",
    [
        ("192.168.1.5", ["192.168.0.0/16"], True),
        ("192.168.1.5", ["10.0.0.0/8", "192.168.0.0/16"], True),
        ("172.16.0.1", ["10.0.0.0/8", "192.168.0.0/16"], False),
        ("2001:db8::1", ["2001:db8::/32"], True),
        ("2001:db9::1", ["2001:db8::/32"], False),
        ("192.168.1.5", ["2001:db8::/32"], False),
        ("::ffff:192.168.1.5", ["192.168.0.0/16"], True),
        ("192.168.1.5", ["192.168.1.5/32"], True),
        ("not an ip", ["192.168.0.0/16"], False),
        ("", ["192.168.0.0/16"], False),
        ("10.0.0.1", [], False),
    ],
)
def test_is_in_cidr(target, networks, want):
    assert run("IsInCIDR", target=target, networks=[C(n) for n in networks]) is want


def test_is_in_cidr_dynamic_list():
    nets = Getter(lambda ctx: ["10.0.0.0/8"])
    assert IMPLEMENTATIONS["IsInCIDR"]({"target": C("10.1.2.3"), "networks": nets})(None) is True
    dyn_item = Getter(lambda ctx: "10.0.0.0/8")
    assert IMPLEMENTATIONS["IsInCIDR"]({"target": C("10.1.2.3"), "networks": [dyn_item]})(None) is True


def test_is_in_cidr_errors():
    with pytest.raises(EvalError, match="invalid CIDR address: 10.0.0.0/33"):
        run("IsInCIDR", target="10.0.0.1", networks=[C("10.0.0.0/33")])
    with pytest.raises(EvalError, match="invalid CIDR address: nope"):
        IMPLEMENTATIONS["IsInCIDR"]({"target": C("10.0.0.1"), "networks": [Getter(lambda ctx: "nope")]})(None)
    with pytest.raises(EvalError, match="expected string but got int64"):
        run("IsInCIDR", target=1, networks=[C("10.0.0.0/8")])
    with pytest.raises(EvalError, match="networks cannot be nil"):
        IMPLEMENTATIONS["IsInCIDR"]({"target": C("10.0.0.1"), "networks": Getter(lambda ctx: None)})(None)
    # an invalid target short-circuits before the networks are read
    assert IMPLEMENTATIONS["IsInCIDR"]({"target": C("x"), "networks": Getter(lambda ctx: None)})(None) is False


# =================================================================================================
# TraceID / SpanID / ProfileID
# =================================================================================================


def test_trace_id():
    raw = bytes(range(16))
    got = run("TraceID", target=raw)
    assert isinstance(got, TraceID) and bytes(got) == raw
    got = run("TraceID", target="a389023abaa839283293ed323892389d")
    assert bytes(got) == bytes.fromhex("a389023abaa839283293ed323892389d")
    assert run("TraceID", target=b"\x00" * 16).is_empty()


def test_span_id():
    got = run("SpanID", target="0102030405060708")
    assert isinstance(got, SpanID) and bytes(got) == bytes(range(1, 9))
    assert bytes(run("SpanID", target=b"\x00" * 8)) == b"\x00" * 8
    # ints are 8 big-endian bytes, so an int makes a span id
    assert bytes(run("SpanID", target=258)) == (258).to_bytes(8, "big")


def test_profile_id():
    got = run("ProfileID", target="00112233445566778899aabbccddeeff")
    assert bytes(got) == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert bytes(run("ProfileID", target=b"\x01" * 16)) == b"\x01" * 16


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("TraceID", b"\x00" * 15, "invalid trace id length: expected 16 or 32 bytes, got 15"),
        ("TraceID", "a389023abaa839283293ed323892389g", "invalid trace id hex: encoding/hex: invalid byte: U+0067 'g'"),
        ("TraceID", None, "invalid trace id length: expected 16 or 32 bytes, got 0"),
        ("SpanID", "0102", "invalid span id length: expected 8 or 16 bytes, got 4"),
        ("SpanID", "010203040506070z", "invalid span id hex"),
        ("ProfileID", "abc", "invalid profile id length: expected 16 or 32 bytes, got 3"),
        ("TraceID", PMap(), "unsupported type: pcommon.Map"),
    ],
)
def test_id_errors(name, value, match):
    with pytest.raises(EvalError, match=re.escape(match)):
        run(name, target=value)


# =================================================================================================
# UUID / UUIDv7
# =================================================================================================


def test_uuid_v4():
    values = {run("UUID") for _ in range(50)}
    assert len(values) == 50
    for v in values:
        u = uuid.UUID(v)
        assert u.version == 4 and str(u) == v


def test_uuid_v7():
    before = time.time_ns() // 1_000_000
    values = [run("UUIDv7") for _ in range(200)]
    after = time.time_ns() // 1_000_000
    assert len(set(values)) == 200
    assert values == sorted(values), "v7 ids made in sequence sort in that sequence"
    for v in values:
        u = uuid.UUID(v)
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert before <= u.int >> 80 <= after
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", v)
