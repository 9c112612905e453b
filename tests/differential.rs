//! Differential test: Quorum's cadence expansion against python-dateutil's
//! rrule (with zoneinfo) over many generated cadences, zones and start times.
//! The oracle (`tests/oracle/dateutil_rrule.py`) gets structured fields, not
//! the cadence text, so the grammar is checked too.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, NaiveDate, Utc};
use quorum::domain::recurrence::Cadence;
use quorum::domain::zone::Zone;

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const ORD: [(&str, i32); 5] = [
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("last", -1),
];
const ZONES: [&str; 5] = [
    "Europe/Madrid",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/London",
];

/// A small deterministic generator, so a failure is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Case {
    text: String,
    json: String,
    zone: &'static str,
    from: DateTime<Utc>,
    anchor: NaiveDate,
}

fn generate(rng: &mut Rng) -> Case {
    // Hours 1-3 often, to land in DST gaps and overlaps.
    let hour = if rng.below(2) == 0 {
        1 + rng.below(3)
    } else {
        rng.below(24)
    } as u32;
    let minute = [0, 15, 30, 45][rng.below(4) as usize];
    let time = format!("{hour:02}:{minute:02}");
    let zone = ZONES[rng.below(ZONES.len() as u64) as usize];
    let from =
        DateTime::from_timestamp(1_704_067_200 + rng.below(8 * 365 * 86_400) as i64, 0).unwrap();
    let anchor = from.date_naive() - chrono::Duration::days(rng.below(400) as i64);
    let (mut freq, mut interval, mut byweekday, mut nth, mut bymonthday, mut bymonth) = (
        "daily",
        1,
        Vec::<usize>::new(),
        None::<(i32, usize)>,
        None::<i32>,
        Vec::<u32>::new(),
    );
    let text = match rng.below(10) {
        0 => format!("daily at {time}"),
        1 => {
            freq = "weekly";
            byweekday = vec![0, 1, 2, 3, 4];
            format!("weekdays at {time}")
        }
        2 | 3 => {
            freq = "weekly";
            let mut days: Vec<usize> = (0..1 + rng.below(3))
                .map(|_| rng.below(7) as usize)
                .collect();
            days.sort();
            days.dedup();
            byweekday = days.clone();
            let names: Vec<&str> = days.iter().map(|d| DAYS[*d]).collect();
            if rng.below(2) == 0 {
                format!("weekly on {} at {time}", names.join(","))
            } else {
                interval = 2 + rng.below(3) as i32;
                format!("every {interval} weeks on {} at {time}", names.join(","))
            }
        }
        4 => {
            freq = "monthly";
            let d = 1 + rng.below(31) as i32;
            bymonthday = Some(d);
            format!("monthly on day {d} at {time}")
        }
        5 => {
            freq = "monthly";
            let (o, n) = ORD[rng.below(5) as usize];
            let d = rng.below(7) as usize;
            nth = Some((n, d));
            format!("monthly on the {o} {} at {time}", DAYS[d])
        }
        6 => {
            freq = "monthly";
            bymonthday = Some(-1);
            format!("monthly on the last day at {time}")
        }
        7 => {
            freq = "monthly";
            let first = 1 + rng.below(12) as u32;
            let mut months: Vec<u32> = (0..4).map(|q| (first - 1 + 3 * q) % 12 + 1).collect();
            months.sort();
            bymonth = months;
            let (o, n) = ORD[rng.below(5) as usize];
            let d = rng.below(7) as usize;
            nth = Some((n, d));
            format!(
                "quarterly on the {o} {} at {time} starting {}",
                DAYS[d],
                MONTHS[first as usize - 1]
            )
        }
        8 => {
            freq = "yearly";
            let m = 1 + rng.below(12) as u32;
            let max = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            let d = 1 + rng.below(max) as i32;
            bymonth = vec![m];
            bymonthday = Some(d);
            format!("yearly on {} {d} at {time}", MONTHS[m as usize - 1])
        }
        _ => {
            freq = "yearly";
            let m = 1 + rng.below(12) as u32;
            bymonth = vec![m];
            let (o, n) = ORD[rng.below(5) as usize];
            let d = rng.below(7) as usize;
            nth = Some((n, d));
            format!(
                "yearly on the {o} {} of {} at {time}",
                DAYS[d],
                MONTHS[m as usize - 1]
            )
        }
    };
    let json = format!(
        r#"{{"freq":"{freq}","interval":{interval},"byweekday":{byweekday:?},"nth":{},"bymonthday":{},"bymonth":{bymonth:?},"hour":{hour},"minute":{minute},"tz":"{zone}","from":{},"anchor":"{anchor}","count":8}}"#,
        nth.map_or("null".to_string(), |(n, d)| format!("[{n},{d}]")),
        bymonthday.map_or("null".to_string(), |d| d.to_string()),
        from.timestamp(),
    );
    Case {
        text,
        json,
        zone,
        from,
        anchor,
    }
}

#[test]
#[ignore = "needs python3 with python-dateutil (pip install python-dateutil)"]
fn cadences_expand_like_python_dateutil() {
    let oracle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/oracle/dateutil_rrule.py"
    );
    let probe = Command::new("python3")
        .args(["-c", "import dateutil, zoneinfo"])
        .status();
    assert!(
        matches!(probe, Ok(s) if s.success()),
        "needs python3 with python-dateutil: pip install python-dateutil"
    );
    let mut rng = Rng(0x5eed_cade_ce5a_u64);
    let cases: Vec<Case> = (0..2000).map(|_| generate(&mut rng)).collect();
    let input: String = cases.iter().map(|c| format!("{}\n", c.json)).collect();
    let mut child = Command::new("python3")
        .arg(oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the oracle");
    // Feed the oracle from a thread: it answers while we write.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "oracle failed");
    let expected: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(expected.len(), cases.len());
    let mut mismatches = Vec::new();
    for (case, want) in cases.iter().zip(&expected) {
        let cadence: Cadence = case
            .text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", case.text));
        let zone: Zone = case.zone.parse().unwrap();
        let got: Vec<String> = cadence
            .occurrences_after(zone, case.anchor, case.from)
            .take(8)
            .map(|d| format!("\"{}\"", d.to_rfc3339()))
            .collect();
        let got = format!("[{}]", got.join(", "));
        if &got != want {
            mismatches.push(format!(
                "{} in {} after {} (anchor {}):\n  quorum:   {got}\n  dateutil: {want}",
                case.text, case.zone, case.from, case.anchor
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
}
