//! Property tests of cadence expansion around DST in four zones (northern,
//! southern, none, and the US), for rules and cron expressions alike.

use chrono::{DateTime, NaiveTime, TimeZone, Timelike, Utc};
use proptest::prelude::*;
use quorum::domain::recurrence::Cadence;
use quorum::domain::zone::Zone;

const ZONES: [&str; 4] = [
    "Europe/Madrid",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
];

fn cadence_text() -> impl Strategy<Value = (String, u32, u32)> {
    let time = (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45]));
    (time, 0usize..8).prop_map(|((h, m), kind)| {
        let t = format!("{h:02}:{m:02}");
        let text = match kind {
            0 => format!("daily at {t}"),
            1 => format!("weekdays at {t}"),
            2 => format!("weekly on sunday,wednesday at {t}"),
            3 => format!("every 2 weeks on sunday at {t}"),
            4 => format!("monthly on the last sunday at {t}"),
            5 => format!("monthly on day 31 at {t}"),
            6 => format!("yearly on february 29 at {t}"),
            _ => format!("cron:{m} {h} * * *"),
        };
        (text, h, m)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn occurrences_are_increasing_restartable_and_keep_wall_clock_time(
        (text, h, m) in cadence_text(),
        zone in prop::sample::select(ZONES.to_vec()),
        from in 1_704_067_200i64..1_956_528_000,
    ) {
        let cadence: Cadence = text.parse().unwrap();
        let zone: Zone = zone.parse().unwrap();
        let from = DateTime::<Utc>::from_timestamp(from, 0).unwrap();
        let anchor = zone.local(from).date();
        let occ: Vec<_> = cadence.occurrences_after(zone, anchor, from).take(6).collect();
        prop_assert!(!occ.is_empty());
        let mut last = from;
        let want = NaiveTime::from_hms_opt(h, m, 0).unwrap();
        for at in &occ {
            let utc = at.with_timezone(&Utc);
            prop_assert!(utc > last, "{} not after {}", utc, last);
            last = utc;
            let local = at.naive_local();
            if local.time() != want {
                // Only allowed when the wall-clock time did not exist that day.
                let intended = local.date().and_time(want);
                prop_assert!(
                    zone.tz().from_local_datetime(&intended).single().is_none(),
                    "{text}: {at} is not at {want} although {intended} exists"
                );
                prop_assert!(at.minute() == m);
            }
        }
        // Restarting from any occurrence gives the rest of the sequence.
        for pair in occ.windows(2) {
            let next = cadence.next_after(zone, anchor, pair[0].with_timezone(&Utc));
            prop_assert_eq!(next, Some(pair[1].with_timezone(&Utc)));
        }
    }
}
