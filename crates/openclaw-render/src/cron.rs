//! Cron expressions with the semantics of croner 10 (OpenClaw's scheduler), so a job the spec
//! accepts is one OpenClaw accepts and that fires at least once: reversed ranges, a numeric
//! prefix before a step (`5/15`), empty list entries and out-of-range values are refused as
//! croner refuses them, and a day that no listed month has (31 February) is refused because
//! croner would never fire it. Stricter than croner on purpose: `L`, `W`, `#` and croner's
//! optional seconds field are refused (five plain fields are all the spec documents). tests/cron_croner.rs compares this with the
//! real croner inside the installed OpenClaw.

/// (name, lowest, highest, names for values from `lowest`)
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// Longest month for each month (February in a leap year).
const DAYS_IN_MONTH: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// One parsed field: the values it matches and whether it was a wildcard.
struct Field {
    values: Vec<bool>,
    wildcard: bool,
}

fn value(s: &str, (name, lo, hi, names): (&str, u32, u32, &[&str])) -> Result<u32, String> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        return Ok(lo + i as u32);
    }
    let n: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number in the {name} field"))?;
    if n < lo || n > hi {
        return Err(format!("{n} is outside {lo}-{hi} in the {name} field"));
    }
    Ok(n)
}

fn field(text: &str, spec: (&str, u32, u32, &[&str]), wild_q: bool) -> Result<Field, String> {
    let (name, lo, hi, _) = spec;
    let mut values = vec![false; hi as usize + 1];
    let mut wildcard = false;
    for part in text.split(',') {
        if part.is_empty() {
            return Err(format!("the {name} field has an empty list entry"));
        }
        if part.contains('#') {
            return Err(format!("'{part}': # (nth weekday) is not supported here"));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let n: u32 = s
                    .parse()
                    .map_err(|_| format!("'{part}' has a bad step in the {name} field"))?;
                if n == 0 {
                    return Err(format!("'{part}': a step of 0 never advances"));
                }
                // croner compares with the number of values the field has.
                if n > hi - lo + 1 {
                    return Err(format!(
                        "'{part}': the step is larger than the {name} field"
                    ));
                }
                (r, n)
            }
            None => (part, 1),
        };
        let (from, to) = if range == "*" || (wild_q && range == "?") {
            if step == 1 {
                wildcard = true;
            }
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a, spec)?, value(b, spec)?);
            if a > b {
                return Err(format!("'{range}' is a reversed range ({a} > {b})"));
            }
            (a, b)
        } else {
            if step != 1 {
                return Err(format!(
                    "'{part}': a step needs * or a range before it (write */{step} or {range}-{hi}/{step})"
                ));
            }
            let v = value(range, spec)?;
            (v, v)
        };
        let mut v = from;
        while v <= to {
            values[v as usize] = true;
            v += step;
        }
    }
    Ok(Field { values, wildcard })
}

/// `Ok` when croner accepts `expr` and it fires at least once.
pub fn check(expr: &str) -> Result<(), String> {
    let parts: Vec<&str> = expr.split(' ').filter(|p| !p.is_empty()).collect();
    if parts.len() != 5 {
        return Err(format!("has {} fields, cron needs 5", parts.len()));
    }
    let f: Vec<Field> = parts
        .iter()
        .zip(FIELDS)
        .enumerate()
        .map(|(i, (p, spec))| field(p, spec, i == 2 || i == 4))
        .collect::<Result<_, _>>()?;
    let (dom, month, dow) = (&f[2], &f[3], &f[4]);
    // croner's legacy mode: with both day fields restricted a day matches either of them, so
    // such a job always fires; otherwise a listed day must exist in a listed month.
    if !dom.wildcard && !dow.wildcard {
        return Ok(());
    }
    let fires = (1..=12)
        .any(|m| month.values[m] && (1..=DAYS_IN_MONTH[m - 1] as usize).any(|d| dom.values[d]));
    if fires {
        Ok(())
    } else {
        Err("no listed month has the listed day, so the job would never run".into())
    }
}
