"""Time and duration converters, checked against the reference's README examples, its _test.go
tables (func_time, ctimefmt, timeutils, Go's time package) and Go's documented behaviour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import ottl.eval.funcs.time as T
from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import Getter
from ottl.eval.values import Duration, Time
from ottl.functions import registry

load_all()

NY = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NS = 1_000_000_000


@pytest.fixture(autouse=True)
def utc_local(monkeypatch):
    """time.Local is UTC unless a test says otherwise (the reference's own CI runs in UTC)."""
    monkeypatch.setattr(T, "_LOCAL", None)


def at(year, month, day, hour=0, minute=0, sec=0, nsec=0, tz=None) -> int:
    """Nanoseconds of a wall clock (Go's time.Date)."""
    return T.go_date(year, month, day, hour, minute, sec, nsec, tz)


def call(name, **args):
    return IMPLEMENTATIONS[name]({k: (Getter.constant(v) if k not in _LITERALS.get(name, ()) else v)
                                  for k, v in args.items()})(None)


_LITERALS = {"Time": ("format", "location", "locale"), "FormatTime": ("format",)}


def parse(value, fmt, location=None, locale=None) -> Time:
    return call("Time", time=value, format=fmt, location=location, locale=locale)


def fmt_time(t: Time, fmt: str) -> str:
    return call("FormatTime", time=t, format=fmt)


# ---------------------------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------------------------

NAMES = ["Time", "FormatTime", "Now", "Unix", "UnixNano", "UnixMicro", "UnixMilli", "UnixSeconds",
         "Duration", "TruncateTime", "Year", "Month", "Day", "Weekday", "Hour", "Minute", "Second",
         "Nanosecond", "Hours", "Minutes", "Seconds", "Milliseconds", "Microseconds", "Nanoseconds"]


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_spec_parameters(name):
    assert name in IMPLEMENTATIONS
    spec = registry.lookup(name)
    assert spec is not None
    args = {}
    for p in spec.params:
        if p.optional:
            args[p.name] = None
        elif p.kind.value == "string":
            args[p.name] = "%Y"
        else:
            args[p.name] = Getter.constant(None)
    assert callable(IMPLEMENTATIONS[name](args))


# ---------------------------------------------------------------------------------------------
# Time: the reference's func_time_test.go table (expected values compared as UnixNano)
# ---------------------------------------------------------------------------------------------

TIME_CASES = [
    ("2023-04-12", "%Y-%m-%d", None, None, at(2023, 4, 12)),
    ("11/11/11", "%d/%m/%y", None, None, at(2011, 11, 11)),
    ("02/04/2023", "%m/%d/%Y", None, None, at(2023, 2, 4)),
    ("July 31, 1993", "%B %d, %Y", None, None, at(1993, 7, 31)),
    ("Mar 14 2023 17:02:59", "%b %d %Y %H:%M:%S", None, None, at(2023, 3, 14, 17, 2, 59)),
    ("Monday, May 01, 2023", "%A, %B %d, %Y", None, None, at(2023, 5, 1)),
    ("Sat, May 20, 2023", "%a, %b %d, %Y", None, None, at(2023, 5, 20)),
    ("Feb 15, 2023", "%b %d, %Y", None, None, at(2023, 2, 15)),
    ("2023-05-26 12:34:56 HST", "%Y-%m-%d %H:%M:%S %Z", None, None,
     at(2023, 5, 26, 12, 34, 56) + 10 * 3600 * NS),
    ("2023-05-26T12:34:56 GMT", "%Y-%m-%dT%H:%M:%S %Z", None, None, at(2023, 5, 26, 12, 34, 56)),
    ("2012-11-01T22:08:41+0000 EST", "%Y-%m-%dT%H:%M:%S%z %Z", None, None,
     at(2012, 11, 1, 22, 8, 41)),
    ("1986-10-01T00:17:33 MST", "%Y-%m-%dT%H:%M:%S %Z", None, None,
     at(1986, 10, 1, 0, 17, 33) + 7 * 3600 * NS),
    ("2022/01/01", "%Y/%m/%d", None, None, at(2022, 1, 1)),
    ("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "America/New_York", None,
     at(2023, 5, 26, 12, 34, 56, tz=NY)),
    ("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "Asia/Shanghai", None,
     at(2023, 5, 26, 12, 34, 56, tz=SHANGHAI)),
    ("1986-10-01T00:17:33 MST", "%Y-%m-%dT%H:%M:%S %Z", "Asia/Shanghai", None,
     at(1986, 10, 1, 0, 17, 33) + 7 * 3600 * NS),
    ("Febrero 25 lunes, 2002, 02:03:04 p.m.", "%B %d %A, %Y, %r", None, "es-ES",
     at(2002, 2, 25, 14, 3, 4)),
    ("mercoledì set 4 2024", "%A %h %e %Y", None, "it", at(2024, 9, 4)),
    ("Febrero 25 lunes, 2002, 02:03:04 p.m.", "%B %d %A, %Y, %r", "America/New_York", "es-ES",
     at(2002, 2, 25, 14, 3, 4, tz=NY)),
    # README examples
    ("Feb 15, 2023", "%b %d, %Y", None, None, at(2023, 2, 15)),
    ("mercoledì set 4 2024", "%A %h %e %Y", "", "it", at(2024, 9, 4)),
    # timeutils' localized table
    ("Febrero 25 jueves, 1993, 02:03:04 p.m.", "%B %d %A, %Y, %r", None, "es-ES",
     at(1993, 2, 25, 14, 3, 4)),
    ("March 12 Friday, 2004, 02:03:04 AM", "%B %d %A, %Y, %I:%M:%S %p", None, "en",
     at(2004, 3, 12, 2, 3, 4)),
    ("Jun 10 Fri, 04, 02:03:04 AM", "%h %d %a, %y, %I:%M:%S %p", None, "en-US",
     at(2004, 6, 10, 2, 3, 4)),
]


@pytest.mark.parametrize("value,fmt,location,locale,expected", TIME_CASES)
def test_time_reference_table(value, fmt, location, locale, expected):
    t = parse(value, fmt, location, locale)
    assert isinstance(t, Time)
    assert t.ns == expected


def test_time_keeps_zone_of_abbreviation():
    t = parse("2023-05-26 12:34:56 HST", "%Y-%m-%d %H:%M:%S %Z")
    assert T.go_time_string(t) == "2023-05-26 12:34:56 -1000 HST"
    t = parse("2012-11-01T22:08:41+0000 EST", "%Y-%m-%dT%H:%M:%S%z %Z")
    assert T.go_time_string(t) == "2012-11-01 22:08:41 +0000 EST"


def test_time_in_location_with_dst():
    summer = parse("2023-07-01 12:00:00", "%Y-%m-%d %H:%M:%S", "America/New_York")
    winter = parse("2023-01-01 12:00:00", "%Y-%m-%d %H:%M:%S", "America/New_York")
    assert summer.ns == at(2023, 7, 1, 16)
    assert winter.ns == at(2023, 1, 1, 17)
    assert fmt_time(summer, "%Z %z") == "EDT -0400"
    assert fmt_time(winter, "%Z %z") == "EST -0500"


def test_time_in_dst_gap_and_overlap_as_go():
    # 2023-03-12 02:30 does not exist in New York; Go resolves it to 01:30 EST (06:30 UTC).
    gap = parse("2023-03-12 02:30:00", "%Y-%m-%d %H:%M:%S", "America/New_York")
    assert gap.ns == at(2023, 3, 12, 6, 30)
    # 2023-11-05 01:30 happens twice; Go takes the first (EDT, 05:30 UTC).
    overlap = parse("2023-11-05 01:30:00", "%Y-%m-%d %H:%M:%S", "America/New_York")
    assert overlap.ns == at(2023, 11, 5, 5, 30)


def test_time_zone_offsets():
    base = at(2019, 1, 2, 15, 4, 5, 666666000)
    for value in ["2019-01-02T15:04:05.666666Z", "2019-01-02T15:04:05.666666-0000",
                  "2019-01-02T15:04:05.666666+0000", "2019-01-02T15:04:05.666666+00:00",
                  "2019-01-02T15:04:05.666666+00", "2019-01-02T15:04:05.666666 Z",
                  "2019-01-02T15:04:05.666666 -0000", "2019-01-02T15:04:05.666666 +0000",
                  "2019-01-02T15:04:05.666666 +00:00", "2019-01-02T15:04:05.666666 +00"]:
        assert parse(value, "%Y-%m-%dT%H:%M:%S.%L%z").ns == base, value
    t = parse("2019-01-02 15:04:05 +05:30", "%Y-%m-%d %H:%M:%S %z")
    assert t.ns == at(2019, 1, 2, 9, 34, 5)
    assert fmt_time(t, "%z|%Z|%j|%i|%k|%w") == "+0530|+0530|+05:30|+05|+05:30:00|+053000"
    t = parse("2019-01-02 15:04:05 -03", "%Y-%m-%d %H:%M:%S %i")
    assert t.ns == at(2019, 1, 2, 18, 4, 5)


def test_time_flexible_numbers():
    # ctimefmt's TestFlexibleParse: unpadded numbers and the OTel-only directives.
    want = at(2019, 1, 2, 15, 4, 5)
    for fmt, value in [("%Y-%m-%dT%H:%M:%S%z", "2019-1-2T15:4:5Z"),
                       ("%Y-%o-%dT%H:%M:%S%z", "2019-1-2T15:4:5Z"),
                       ("%Y-%q-%dT%H:%M:%S%z", "2019-1-2T15:4:5Z"),
                       ("%Y-%m-%dT%X%z", "2019-1-2T15:4:5Z"),
                       ("%Y-%m-%gT%H:%M:%S%z", "2019-1-2T15:4:5Z"),
                       ("%Y-%m-%d %r", "2019-1-2 3:4:5 pm")]:
        assert parse(value, fmt).ns == want, fmt
    assert parse("1/2/19", "%D").ns == at(2019, 1, 2)
    assert parse("01/02/2019", "%D").ns == at(2019, 1, 2)
    assert parse("Wed Jan 2 15:04:05 2019", "%c").ns == want
    assert parse("2019-01-02", "%F").ns == at(2019, 1, 2)
    assert parse("2019-01-02 15:04", "%F %R").ns == at(2019, 1, 2, 15, 4)
    assert parse("2019-01-02 3:04:05.666 pm, Wed", "%Y-%m-%d %l:%M:%S.%L %P, %a").ns == \
        at(2019, 1, 2, 15, 4, 5, 666000000)
    assert parse("2019-01-02 12:00:00 AM", "%Y-%m-%d %I:%M:%S %p").ns == at(2019, 1, 2, 0)


def test_time_fractional_seconds_keep_nanoseconds():
    assert parse("2025-07-07 01:07:27.123456789", "%Y-%m-%d %H:%M:%S.%s").ns == \
        at(2025, 7, 7, 1, 7, 27, 123456789)
    assert parse("2025-07-07 01:07:27,5", "%Y-%m-%d %H:%M:%S,%f").ns == \
        at(2025, 7, 7, 1, 7, 27, 500000000)
    # A fraction the format does not mention is still taken after the seconds, as in Go.
    assert parse("2025-07-07 01:07:27.000000001", "%Y-%m-%d %H:%M:%S").ns == \
        at(2025, 7, 7, 1, 7, 27, 1)
    # %s is the nanosecond fraction in the reference, not epoch seconds.
    t = parse("1970-01-01 00:00:00.000000042", "%Y-%m-%d %H:%M:%S.%s")
    assert t.ns == 42


def test_time_spaces_before_numbers():
    # The flexible parser lets spaces stand before a number when the value has them.
    assert parse(" 2/ 1/2020", "%d/%m/%Y").ns == at(2020, 1, 2)
    assert parse("2020-01-02T03:04:05   +0100", "%Y-%m-%dT%H:%M:%S%z").ns == at(2020, 1, 2, 2, 4, 5)


def test_time_zone_names_as_go():
    assert parse("2023-01-02 10:00 UTC", "%Y-%m-%d %H:%M %Z").tz is None
    # An unknown GMT+n abbreviation keeps the clock as UTC and labels it (Go's behaviour).
    t = parse("2023-01-02 10:00 GMT+3", "%Y-%m-%d %H:%M %Z")
    assert t.ns == at(2023, 1, 2, 10)
    assert fmt_time(t, "%H:%M %Z %z") == "13:00 GMT+3 +0300"
    # An offset that is the location's own offset keeps the location.
    t = parse("2023-07-01 12:00 -0400", "%Y-%m-%d %H:%M %z", "America/New_York")
    assert t.ns == at(2023, 7, 1, 16) and t.tz is NY
    t = parse("2023-07-01 12:00 -0300", "%Y-%m-%d %H:%M %z", "America/New_York")
    assert t.ns == at(2023, 7, 1, 15) and fmt_time(t, "%Z") == "-0300"
    # An abbreviation of the location in use at that time.
    t = parse("2023-01-02 10:00 EST", "%Y-%m-%d %H:%M %Z", "America/New_York")
    assert t.ns == at(2023, 1, 2, 15) and t.tz is NY


def test_local_zone_from_environment(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert T._find_local() == NY
    monkeypatch.setenv("TZ", "")
    assert T._find_local() is None
    monkeypatch.setenv("TZ", "UTC")
    assert T._find_local() is None
    monkeypatch.setenv("TZ", "Nowhere/Atlantis")
    assert T._find_local() is None
    monkeypatch.setenv("TZ", ":/usr/share/zoneinfo/Asia/Tokyo")
    tokyo = T._find_local()
    assert T._zone_at(tokyo, 0) == ("JST", 9 * 3600)
    # lookupName works on a zone read from a file too.
    assert T._lookup_name(tokyo, "JST", 0) == 9 * 3600


def test_time_format_ending_in_z_is_utc(monkeypatch):
    monkeypatch.setattr(T, "_LOCAL", NY)
    assert parse("2023-01-01T00:00:00Z", "%Y-%m-%dT%H:%M:%SZ").ns == at(2023, 1, 1)
    assert parse("2023-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S").ns == at(2023, 1, 1, tz=NY)


def test_time_default_location_is_local(monkeypatch):
    monkeypatch.setattr(T, "_LOCAL", NY)
    t = parse("2023-04-12", "%Y-%m-%d")
    assert t.ns == at(2023, 4, 12, 4)
    assert t.tz is NY
    # Year() and friends read the time in its own zone.
    assert call("Day", time=t) == 12 and call("Hour", time=t) == 0


def test_time_without_year_gets_current_year(monkeypatch):
    monkeypatch.setattr(T, "_now_ns", lambda: at(2026, 2, 16))
    assert parse("Feb 15 10:30:00", "%b %d %H:%M:%S").ns == at(2026, 2, 15, 10, 30)
    assert parse("Jan 01 10:30:00", "%b %d %H:%M:%S").ns == at(2026, 1, 1, 10, 30)
    # More than 7 days ahead: last year.
    assert parse("Jun 09 11:39:45", "%b %d %H:%M:%S").ns == at(2025, 6, 9, 11, 39, 45)
    assert parse("02-22 11:39", "%m-%d %H:%M").ns == at(2026, 2, 22, 11, 39)
    assert parse("02-23 00:00", "%m-%d %H:%M").ns == at(2026, 2, 23)
    assert parse("02-23 00:01", "%m-%d %H:%M").ns == at(2025, 2, 23, 0, 1)


def test_time_of_day_alone_is_today(monkeypatch):
    monkeypatch.setattr(T, "_now_ns", lambda: at(2026, 2, 16, 11, 48, 14))
    assert parse("11:31:06,491", "%H:%M:%S,%L").ns == at(2026, 2, 16, 11, 31, 6, 491000000)
    assert parse("23:59:59", "%T").ns == at(2026, 2, 16, 23, 59, 59)


def test_time_last_layout_reused():
    fn = IMPLEMENTATIONS["Time"]({"time": Getter(lambda ctx: ctx), "format": "%Y-%m-%d %H:%M",
                                  "location": None, "locale": None})
    assert fn("2023-01-02 03:04").ns == at(2023, 1, 2, 3, 4)
    assert fn("2023-1-2 3:4").ns == at(2023, 1, 2, 3, 4)
    assert fn("2023-12-31 23:59").ns == at(2023, 12, 31, 23, 59)


TIME_ERRORS = [
    ("11/11/11", "%Y/%m/%d",
     'parsing time "11/11/11" as "%Y/%m/%d": cannot parse "11/11/11" as "%Y"'),
    ("", "%Y-%m-%dT%H:%M:%S", "time cannot be nil"),
    ("2023-01-02", "%Y/%m/%d",
     'parsing time "2023-01-02" as "%Y/%m/%d": cannot parse "-01-02" as "/"'),
    ("2023-13-02", "%Y-%m-%d", 'parsing time "2023-13-02": month out of range'),
    ("2023-02-30", "%Y-%m-%d", 'parsing time "2023-02-30": day out of range'),
    ("2023-02-03 25:00", "%Y-%m-%d %H:%M", 'parsing time "2023-02-03 25:00": hour out of range'),
    ("2023-04-12x", "%Y-%m-%d", 'parsing time "2023-04-12x": extra text: "x"'),
    ("Foo 12, 2023", "%b %d, %Y",
     'parsing time "Foo 12, 2023" as "%b %d, %Y": cannot parse "Foo 12, 2023" as "%b"'),
    ("2023-05-26 12:34:56 BST", "%Y-%m-%d %H:%M:%S %Z",
     "failed to load location BST: unknown time zone BST"),
    ("Febrerx 25", "%B %d",
     'value "Febrerx 25" does not match the layout element "%B"'),
]


@pytest.mark.parametrize("value,fmt,message", TIME_ERRORS)
def test_time_errors(value, fmt, message):
    locale = "es" if value.startswith("Febrerx") else None
    with pytest.raises(EvalError) as exc:
        parse(value, fmt, None, locale)
    assert str(exc.value) == message


def test_time_wrong_type():
    with pytest.raises(EvalError, match="expected string but got int64"):
        parse(12, "%Y")


BUILD_ERRORS = [
    ({"format": ""}, "format cannot be nil"),
    ({"format": "%Y-%m-%d %H:%M:%S", "location": "Jupiter/Ganymede"},
     "failed to load location Jupiter/Ganymede: unknown time zone Jupiter/Ganymede"),
    ({"format": "%Y-%m-%d %H:%M:%S", "locale": "foo-bar"},
     "unsupported locale 'foo-bar', value must be a supported BCP 47 language tag"),
    ({"format": "%Y-%m-%d %H:%M:%S", "locale": "!!"},
     "invalid locale '!!': language: tag is not well-formed"),
    ({"format": "%Y-%m-%d-%H-%M-%S:%L"},
     "invalid fractional seconds directive: ':%L'. must be preceded with '.' or ','"),
    ({"format": "2006-%m-%d"}, "format string should not contain decimals"),
    ({"format": "%C-%m-%d-%H-%M-%S.%L"},
     "invalid strptime format: [unsupported ctimefmt.toNative() directive: %C]"),
    ({"format": "%Y %E %C"},
     ("invalid strptime format: [unsupported ctimefmt.toNative() directive: %E "
      "unsupported ctimefmt.toNative() directive: %C]")),
]


@pytest.mark.parametrize("args,message", BUILD_ERRORS)
def test_time_build_errors(args, message):
    full = {"time": Getter.constant("x"), "location": None, "locale": None, **args}
    with pytest.raises(EvalError) as exc:
        IMPLEMENTATIONS["Time"](full)
    assert str(exc.value) == message


def test_locales():
    assert parse("lundi 3 mars 2025", "%A %d %B %Y", None, "fr").ns == at(2025, 3, 3)
    assert parse("Montag, 3. März 2025", "%A, %d. %B %Y", None, "de-DE").ns == at(2025, 3, 3)
    assert parse("DOMINGO 2 ENE 2022", "%A %d %b %Y", None, "ES_es").ns == at(2022, 1, 2)
    with pytest.raises(EvalError, match='layout element "PM" is not support by the language "de"'):
        parse("3:04 PM", "%l:%M %p", None, "de")


# ---------------------------------------------------------------------------------------------
# FormatTime
# ---------------------------------------------------------------------------------------------

REF = Time(at(2023, 1, 2, 15, 4, 5, 123456789))  # a Monday, UTC
MORNING = Time(at(2023, 5, 7, 3, 9, 8, 120000000, tz=NY), NY)  # a Sunday, EDT


@pytest.mark.parametrize("t,fmt,expected", [
    (REF, "%Y-%m-%d %H:%M:%S", "2023-01-02 15:04:05"),
    (REF, "%Y-%m-%d %H:%M:%S.%f", "2023-01-02 15:04:05.123456"),
    (REF, "%Y-%m-%d %H:%M:%S.%L", "2023-01-02 15:04:05.123"),
    (REF, "%H:%M:%S,%s", "15:04:05,123456789"),
    # %o is "_1" in the reference: Go has no "_1" element, so "_" stays literal.
    (REF, "%y %o %q %e %g", "23 _1 1  2 2"),
    (REF, "%b %h %B %a %A", "Jan Jan January Mon Monday"),
    (REF, "%I %l %p %P", "03 3 PM pm"),
    (REF, "%z %Z %i %j %k %w", "Z UTC +00 +00:00 +00:00:00 +000000"),
    (REF, "%D|%x|%F|%T|%X|%r|%R", "01/02/2023|01/02/2023|2023-01-02|15:04:05|15:04:05|03:04:05 pm|15:04"),
    (REF, "%c", "Mon Jan 02 15:04:05 2023"),
    (REF, "%%%n%t", "%\n\t"),
    (MORNING, "%A %d %B %Y %I:%M:%S.%L %p %Z %z", "Sunday 07 May 2023 03:09:08.12 AM EDT -0400"),
    (MORNING, "%e/%o/%y %l%P", " 7/_5/23 3am"),
    (Time(at(2023, 1, 2, 15, 4, 5)), "%H:%M:%S.%f", "15:04:05"),
    (Time(at(2023, 1, 2, 12, 0)), "%I %p", "12 PM"),
    (Time(at(2023, 1, 2, 0, 0)), "%I %p", "12 AM"),
])
def test_format_time(t, fmt, expected):
    assert fmt_time(t, fmt) == expected


def test_format_time_readme_examples():
    t = parse("02/04/2023", "%m/%d/%Y")
    assert fmt_time(t, "%A %h %e %Y") == "Saturday Feb  4 2023"
    t = call("UnixNano", time=parse("Mar 14 2023 17:02:59", "%b %d %Y %H:%M:%S"))
    assert fmt_time(Time(t), "%b %d %Y %H:%M:%S") == "Mar 14 2023 17:02:59"


@pytest.mark.parametrize("fmt,message", [
    ("", "format cannot be nil"),
    ("%Y-%m-%d-%H-%M-%S:%L", "invalid fractional seconds directive: ':%L'. must be preceded with '.' or ','"),
    ("%Y 2006", "format string should not contain decimals"),
    ("%Q", "invalid strptime format: [unsupported ctimefmt.toNative() directive: %Q]"),
])
def test_format_time_build_errors(fmt, message):
    with pytest.raises(EvalError) as exc:
        IMPLEMENTATIONS["FormatTime"]({"time": Getter.constant(REF), "format": fmt})
    assert str(exc.value) == message


def test_format_time_wrong_type():
    with pytest.raises(EvalError, match="expected time.Time but got string"):
        fmt_time("2023", "%Y")


def test_go_time_string():
    assert T.go_time_string(REF) == "2023-01-02 15:04:05.123456789 +0000 UTC"
    assert T.go_time_string(MORNING) == "2023-05-07 03:09:08.12 -0400 EDT"
    assert T.go_time_string(Time(0, dt.timezone(dt.timedelta(hours=5, minutes=30), ""))) == \
        "1970-01-01 05:30:00 +0530 +0530"


# ---------------------------------------------------------------------------------------------
# Now, Unix and the Unix* readers
# ---------------------------------------------------------------------------------------------


def test_now(monkeypatch):
    monkeypatch.setattr(T, "_now_ns", lambda: 1_700_000_000_123_456_789)
    monkeypatch.setattr(T, "_LOCAL", NY)
    t = call("Now")
    assert t.ns == 1_700_000_000_123_456_789 and t.tz is NY


def test_now_is_current():
    import time

    before = time.time_ns()
    t = call("Now")
    assert before <= t.ns <= time.time_ns()


@pytest.mark.parametrize("sec,nsec,expected", [
    (1672527600, None, 1672527600 * NS),
    (0, 5, 5),
    (1, -1, NS - 1),
    (-1, 2_500_000_000, NS + 500_000_000),
    (-62135596800, 0, -62135596800 * NS),
])
def test_unix(sec, nsec, expected):
    args = {"seconds": Getter.constant(sec),
            "nanoseconds": None if nsec is None else Getter.constant(nsec)}
    assert IMPLEMENTATIONS["Unix"](args)(None).ns == expected


def test_unix_local_and_types(monkeypatch):
    monkeypatch.setattr(T, "_LOCAL", NY)
    t = IMPLEMENTATIONS["Unix"]({"seconds": Getter.constant(1672527600), "nanoseconds": None})(None)
    assert t.tz is NY and call("Hour", time=t) == 18
    with pytest.raises(EvalError, match="expected int64 but got string"):
        IMPLEMENTATIONS["Unix"]({"seconds": Getter.constant("1"), "nanoseconds": None})(None)
    with pytest.raises(EvalError, match="expected int64 but got float64"):
        IMPLEMENTATIONS["Unix"]({"seconds": Getter.constant(1),
                                 "nanoseconds": Getter.constant(1.0)})(None)


@pytest.mark.parametrize("ns,seconds,milli,micro,nano", [
    (at(2023, 2, 4), 1675468800, 1675468800000, 1675468800000000, 1675468800000000000),
    (1_234_567_891, 1, 1234, 1234567, 1234567891),
    (-1, -1, -1, -1, -1),
    (-1_500_000_000, -2, -1500, -1500000, -1500000000),
])
def test_unix_readers(ns, seconds, milli, micro, nano):
    t = Time(ns, NY)
    assert call("UnixSeconds", time=t) == seconds
    assert call("UnixMilli", time=t) == milli
    assert call("UnixMicro", time=t) == micro
    assert call("UnixNano", time=t) == nano


def test_unix_readme_examples():
    t = parse("02/04/2023", "%m/%d/%Y")
    assert call("UnixMicro", time=t) == 1675468800000000
    assert call("UnixMilli", time=t) == 1675468800000
    assert call("UnixNano", time=t) == 1675468800000000000
    assert call("UnixSeconds", time=t) == 1675468800


def test_unix_nano_wraps_like_int64():
    t = Time((1 << 63) + 5)
    assert call("UnixNano", time=t) == -(1 << 63) + 5


# ---------------------------------------------------------------------------------------------
# Calendar parts, in the time's own zone
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t,parts", [
    (Time(at(2023, 1, 2, 15, 4, 5, 123456789)), (2023, 1, 2, 1, 15, 4, 5, 123456789)),
    (Time(at(2023, 1, 2, 3, 4, 5, 6)), (2023, 1, 2, 1, 3, 4, 5, 6)),
    # 02:00 UTC is the evening before in New York (EST).
    (Time(at(2024, 1, 1, 2), NY), (2023, 12, 31, 0, 21, 0, 0, 0)),
    (Time(at(2024, 7, 4, 12), NY), (2024, 7, 4, 4, 8, 0, 0, 0)),
    (Time(at(2024, 2, 29, 23, 59, 59, 999999999)), (2024, 2, 29, 4, 23, 59, 59, 999999999)),
    (Time(-1), (1969, 12, 31, 3, 23, 59, 59, 999999999)),
    (Time(at(1, 1, 1)), (1, 1, 1, 1, 0, 0, 0, 0)),
    (Time(at(1, 1, 1) - 1), (0, 12, 31, 0, 23, 59, 59, 999999999)),
])
def test_time_parts(t, parts):
    names = ["Year", "Month", "Day", "Weekday", "Hour", "Minute", "Second", "Nanosecond"]
    assert tuple(call(n, time=t) for n in names) == parts


def test_time_parts_wrong_type():
    with pytest.raises(EvalError, match="expected time.Time but got nil"):
        call("Year", time=None)


# ---------------------------------------------------------------------------------------------
# Duration (Go's parseDurationTests) and Duration.String()
# ---------------------------------------------------------------------------------------------

S, MS, US, MIN, H = NS, 1_000_000, 1000, 60 * NS, 3600 * NS

DURATIONS = [
    ("0", 0), ("5s", 5 * S), ("30s", 30 * S), ("1478s", 1478 * S), ("-5s", -5 * S),
    ("+5s", 5 * S), ("-0", 0), ("+0", 0), ("5.0s", 5 * S), ("5.6s", 5 * S + 600 * MS),
    ("5.s", 5 * S), (".5s", 500 * MS), ("1.0s", S), ("1.00s", S), ("1.004s", S + 4 * MS),
    ("1.0040s", S + 4 * MS), ("100.00100s", 100 * S + MS), ("10ns", 10), ("11us", 11 * US),
    ("12µs", 12 * US), ("12μs", 12 * US), ("13ms", 13 * MS), ("14s", 14 * S), ("15m", 15 * MIN),
    ("16h", 16 * H), ("3h30m", 3 * H + 30 * MIN), ("10.5s4m", 4 * MIN + 10 * S + 500 * MS),
    ("-2m3.4s", -(2 * MIN + 3 * S + 400 * MS)), ("1h2m3s4ms5us6ns", H + 2 * MIN + 3 * S + 4 * MS + 5 * US + 6),
    ("39h9m14.425s", 39 * H + 9 * MIN + 14 * S + 425 * MS), ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MIN), ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", (1 << 63) - 1), ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1), ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)), ("-9223372036s854ms775us808ns", -(1 << 63)),
    ("-2562047h47m16.854775808s", -(1 << 63)), ("0.100000000000000000000h", 6 * MIN),
    ("0.830103483285477580700h", 49 * MIN + 48 * S + 372539827),
    ("1h2m3.5s", H + 2 * MIN + 3 * S + 500 * MS), ("-1.5h", -(H + 30 * MIN)),
]


@pytest.mark.parametrize("text,ns", DURATIONS)
def test_duration(text, ns):
    d = call("Duration", duration=text)
    assert isinstance(d, Duration) and d.ns == ns


@pytest.mark.parametrize("text,message", [
    ("", 'time: invalid duration ""'),
    ("3", 'time: missing unit in duration "3"'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("10h 20m", 'time: unknown unit "h " in duration "10h 20m"'),
    ("\x85\x85", 'time: invalid duration "\\xc2\\x85\\xc2\\x85"'),
    ("hello \uffff world", 'time: invalid duration "hello \\xef\\xbf\\xbf world"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
    ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
    ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
])
def test_duration_errors(text, message):
    with pytest.raises(EvalError) as exc:
        call("Duration", duration=text)
    assert str(exc.value) == message


@pytest.mark.parametrize("text,ns", [
    ("0s", 0), ("1ns", 1), ("1.1µs", 1100), ("2.2ms", 2200 * US), ("3.3s", 3300 * MS),
    ("4m5s", 4 * MIN + 5 * S), ("4m5.001s", 4 * MIN + 5001 * MS),
    ("5h6m7.001s", 5 * H + 6 * MIN + 7001 * MS), ("8m0.000000001s", 8 * MIN + 1),
    ("2562047h47m16.854775807s", (1 << 63) - 1), ("-2562047h47m16.854775808s", -(1 << 63)),
    ("-1h30m0s", -(H + 30 * MIN)), ("1h0m0s", H),
])
def test_duration_string(text, ns):
    assert T.go_duration_string(ns) == text


# ---------------------------------------------------------------------------------------------
# TruncateTime
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t,d,expected", [
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), NS, at(2023, 5, 26, 12, 34, 56)),
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), H, at(2023, 5, 26, 12)),
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), 10 * H + 20 * MIN, at(2023, 5, 26, 10)),
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), 24 * H, at(2023, 5, 26)),
    # Weeks count from Go's zero time, a Monday: 2023-05-26 is a Friday.
    (Time(at(2023, 5, 26, 12, 34, 56)), 7 * 24 * H, at(2023, 5, 22)),
    (Time(-1), NS, -NS),
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), 0, at(2023, 5, 26, 12, 34, 56, 789)),
    (Time(at(2023, 5, 26, 12, 34, 56, 789)), -NS, at(2023, 5, 26, 12, 34, 56, 789)),
    # Truncation works on the absolute time, not on the clock in the zone.
    (Time(at(2023, 5, 26, 12, 34, 56), NY), 24 * H, at(2023, 5, 26)),
])
def test_truncate_time(t, d, expected):
    got = call("TruncateTime", time=t, duration=Duration(d))
    assert got.ns == expected and got.tz is t.tz


def test_truncate_time_readme_example():
    t = Time(at(2023, 5, 26, 12, 34, 56, 789))
    got = call("TruncateTime", time=t, duration=call("Duration", duration="1s"))
    assert fmt_time(got, "%Y-%m-%d %H:%M:%S.%s") == "2023-05-26 12:34:56"
    with pytest.raises(EvalError, match="expected time.Duration but got string"):
        call("TruncateTime", time=t, duration="1s")


# ---------------------------------------------------------------------------------------------
# Duration units
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d,hours,minutes,seconds,milli,micro,nano", [
    (H, 1.0, 60.0, 3600.0, 3_600_000, 3_600_000_000, H),
    (90 * S, 0.025, 1.5, 90.0, 90_000, 90_000_000, 90 * S),
    (-(H + 30 * MIN), -1.5, -90.0, -5400.0, -5_400_000, -5_400_000_000, -(H + 30 * MIN)),
    (1_500, 1_500 / 3.6e12, 1_500 / 6e10, 1.5e-6, 0, 1, 1_500),
    (-1_999_999, -1_999_999 / 3.6e12, -1_999_999 / 6e10, -0.001999999, -1, -1999, -1_999_999),
    ((1 << 63) - 1, 2562047.7880152157, 153722867.28091294, 9223372036.854776,
     9223372036854, 9223372036854775, (1 << 63) - 1),
])
def test_duration_units(d, hours, minutes, seconds, milli, micro, nano):
    dur = Duration(d)
    assert call("Hours", duration=dur) == pytest.approx(hours, rel=1e-15)
    assert call("Minutes", duration=dur) == pytest.approx(minutes, rel=1e-15)
    assert call("Seconds", duration=dur) == pytest.approx(seconds, rel=1e-15)
    assert call("Milliseconds", duration=dur) == milli
    assert call("Microseconds", duration=dur) == micro
    assert call("Nanoseconds", duration=dur) == nano


def test_duration_units_types_and_readme():
    assert call("Hours", duration=call("Duration", duration="1h")) == 1.0
    assert isinstance(call("Seconds", duration=Duration(S)), float)
    assert type(call("Milliseconds", duration=Duration(S))) is int
    with pytest.raises(EvalError, match="expected time.Duration but got int64"):
        call("Minutes", duration=5)


# ---------------------------------------------------------------------------------------------
# Go's layout engine directly
# ---------------------------------------------------------------------------------------------


def test_go_layouts_round_trip():
    layouts = ["Mon Jan _2 15:04:05 2006", "Mon Jan _2 15:04:05 MST 2006",
               "02 Jan 06 15:04 -0700", "Monday, 02-Jan-06 15:04:05 MST",
               "2006-01-02T15:04:05.999999999Z07:00", "3:04PM", "Jan _2 15:04:05.000000",
               "2006-01-02 15:04:05.000 -07:00:00"]
    t = Time(at(2009, 2, 3, 16, 5, 6, 7_000_000), NY)
    for layout in layouts:
        text = T.go_format(t.ns, t.tz, layout)
        ns, _tz = T.go_parse(T._b(layout), T._b(text), NY, NY)
        f1 = T._fields(ns, _tz)
        f2 = T._fields(t.ns, t.tz)
        assert (f1.hour, f1.minute) == (f2.hour, f2.minute), layout
    assert T.go_format(t.ns, t.tz, "002 __2 _2") == "034  34  3"


def test_go_date_normalises_like_go():
    assert at(2023, 13, 1) == at(2024, 1, 1)
    assert at(2023, 2, 29) == at(2023, 3, 1)
    assert at(2023, 1, 1, 0, 0, 0, -1) == at(2022, 12, 31, 23, 59, 59, NS - 1)
    assert at(2023, 0, 0) == at(2022, 11, 30)
