"""Oracle for tests/calendar.rs: expand an iCalendar feed with Python's
`icalendar` and `recurring-ical-events` and print every occurrence between
two instants, one per line: SUMMARY <tab> DTSTART in UTC (RFC 3339)
<tab> DTSTART in its own zone <tab> the first line of DESCRIPTION.

usage: ical_expand.py FEED.ics START END   (START and END in RFC 3339)
"""

import sys
from datetime import datetime, timezone

import icalendar
import recurring_ical_events


def main() -> None:
    path, start, end = sys.argv[1:4]
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    start_at = datetime.fromisoformat(start)
    end_at = datetime.fromisoformat(end)
    rows = []
    for event in recurring_ical_events.of(cal).between(start_at, end_at):
        dt = event["DTSTART"].dt
        if dt.tzinfo is None:
            raise SystemExit(f"floating DTSTART in {event.get('SUMMARY')}")
        description = str(event.get("DESCRIPTION", "")).split("\n")[0]
        rows.append(
            (
                str(event["SUMMARY"]),
                dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                dt.isoformat(),
                description,
            )
        )
    rows.sort()
    for row in rows:
        print("\t".join(row))


if __name__ == "__main__":
    main()
