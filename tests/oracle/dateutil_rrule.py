"""Reference expansion of cadences with python-dateutil's rrule and zoneinfo.

Reads one JSON case per line on stdin, writes one JSON list of RFC 3339
occurrences per line on stdout. Written independently of Quorum's Rust code:
it gets the cadence as structured fields, never as text. Wall-clock times
are placed in the zone with fold=0 (PEP 495), which is Quorum's documented
rule: a time in a spring-forward gap moves forward by the gap, a time in a
fall-back overlap happens at its first instance.
"""
import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil import rrule

FREQ = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY, "yearly": rrule.YEARLY}
DAYS = [rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU]


def expand(case):
    zone = ZoneInfo(case["tz"])
    start = datetime.fromtimestamp(case["from"], tz=timezone.utc)
    local_from = start.astimezone(zone).replace(tzinfo=None)
    if case["interval"] > 1:
        y, m, d = map(int, case["anchor"].split("-"))
        dtstart = datetime(y, m, d, case["hour"], case["minute"])
    else:
        base = local_from - timedelta(days=2)
        dtstart = datetime(base.year, base.month, base.day, case["hour"], case["minute"])
    kwargs = dict(dtstart=dtstart, interval=case["interval"], byhour=case["hour"],
                  byminute=case["minute"], bysecond=0, wkst=rrule.MO)
    if case["byweekday"]:
        kwargs["byweekday"] = [DAYS[d] for d in case["byweekday"]]
    if case["nth"]:
        n, d = case["nth"]
        kwargs["byweekday"] = [DAYS[d](n)]
    if case["bymonthday"] is not None:
        kwargs["bymonthday"] = case["bymonthday"]
    if case["bymonth"]:
        kwargs["bymonth"] = case["bymonth"]
    out = []
    for naive in rrule.rrule(FREQ[case["freq"]], **kwargs):
        instant = naive.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        if instant <= start:
            continue
        # Via UTC: astimezone() to the same zone would return the gap time unchanged.
        out.append(instant.astimezone(zone).isoformat())
        if len(out) == case["count"]:
            break
    return out


for line in sys.stdin:
    if line.strip():
        print(json.dumps(expand(json.loads(line))), flush=True)
