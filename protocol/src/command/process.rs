//! The facilitators' commands on the room's process: rounds with their programme of work, the
//! item under way, and readings with the "now under discussion" pointer.

use yrs::{ReadTxn, TransactionMut};

use super::error::{refuse, CommandError, ErrorCode};
use super::guards::{facilitators_only, paragraph, readable_name, standing_paragraph};
use super::limits::MAX_READING_VISITS;
use super::{next_id, Context, Outcome};
use crate::process::{covers, parse_date, ItemKind, ProgrammeDay, Reading, Round, Visit};
use crate::revision::Publisher;
use crate::schema::{self, keys};

/// Who asks, as a value records it.
pub(super) fn publisher(ctx: &Context<'_>) -> Publisher {
    Publisher {
        mission: ctx.actor.mission.to_string(),
        person: ctx.person.to_string(),
    }
}

/// Writes a process value; serialising one of ours does not fail, but if it did the command
/// is refused rather than half-applied.
pub(super) fn store<T: serde::Serialize>(
    txn: &mut TransactionMut,
    root: &str,
    id: &str,
    value: &T,
) -> Result<(), CommandError> {
    schema::store_process_value(txn, root, id, value)
        .map_err(|e| refuse(ErrorCode::InvalidArgument, e.to_string()))
}

pub(super) fn round(txn: &impl ReadTxn, id: &str) -> Result<Round, CommandError> {
    crate::process::round(txn, id)
        .ok_or_else(|| refuse(ErrorCode::UnknownRound, format!("no round {id}")))
}

fn reading(txn: &impl ReadTxn, id: &str) -> Result<Reading, CommandError> {
    crate::process::reading(txn, id)
        .ok_or_else(|| refuse(ErrorCode::UnknownReading, format!("no reading {id}")))
}

/// A small entry beside a process value (see `keys::ROUND_CURRENT`); serialising one of ours
/// does not fail, but if it did the command is refused.
fn failed(e: serde_json::Error) -> CommandError {
    refuse(ErrorCode::InvalidArgument, e.to_string())
}

fn open_reading(txn: &impl ReadTxn, id: &str) -> Result<Reading, CommandError> {
    let r = reading(txn, id)?;
    if !r.is_open() {
        return Err(refuse(
            ErrorCode::ReadingClosed,
            format!("{} has ended", r.name),
        ));
    }
    Ok(r)
}

fn date(text: &str, what: &str) -> Result<i64, CommandError> {
    parse_date(text).map(|d| d.days()).ok_or_else(|| {
        refuse(
            ErrorCode::InvalidArgument,
            format!("{what} must be a day as YYYY-MM-DD, not {text:?}"),
        )
    })
}

/// A programme that fits its round: each day a real date within the round, in order and none
/// twice; each item titled, its theme and paragraphs known.
fn checked_programme(
    txn: &impl ReadTxn,
    (first, last): (i64, i64),
    programme: &[ProgrammeDay],
) -> Result<Vec<ProgrammeDay>, CommandError> {
    let themes = schema::themes(txn);
    let mut previous: Option<i64> = None;
    let mut checked = Vec::with_capacity(programme.len());
    for day in programme {
        let d = date(&day.date, "a programme day")?;
        if d < first || d > last {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                format!("{} is outside the round's dates", day.date),
            ));
        }
        if previous.is_some_and(|p| p >= d) {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                "programme days go in order, each once",
            ));
        }
        previous = Some(d);
        let mut items = Vec::with_capacity(day.items.len());
        for item in &day.items {
            let mut item = item.clone();
            item.title = readable_name(&item.title, "a programme item")?.to_string();
            item.time = item.time.trim().to_string();
            if let Some(theme) = &item.theme {
                if !themes.iter().any(|t| &t.id == theme) {
                    return Err(refuse(ErrorCode::UnknownTheme, format!("no theme {theme}")));
                }
            }
            if item.kind != ItemKind::Theme && item.theme.is_some() {
                return Err(refuse(
                    ErrorCode::InvalidArgument,
                    "only a theme discussion names a theme",
                ));
            }
            for p in &item.paragraphs {
                paragraph(txn, p)?;
            }
            items.push(item);
        }
        checked.push(ProgrammeDay {
            date: day.date.clone(),
            items,
        });
    }
    Ok(checked)
}

pub(super) fn create_round(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    name: &str,
    (starts_on, ends_on): (&str, &str),
    place: &str,
    programme: &[ProgrammeDay],
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let name = readable_name(name, "a round")?;
    let dates = (date(starts_on, "starts_on")?, date(ends_on, "ends_on")?);
    if dates.0 > dates.1 {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "a round ends on or after the day it starts",
        ));
    }
    let place = place.trim();
    if !place.is_empty() {
        readable_name(place, "a place")?;
    }
    let programme = checked_programme(txn, dates, programme)?;
    let id = next_id(txn, keys::ROUNDS, keys::ROUND_ID_PREFIX);
    let round = Round {
        id: id.clone(),
        name: name.to_string(),
        starts_on: starts_on.to_string(),
        ends_on: ends_on.to_string(),
        place: place.to_string(),
        programme,
        current: None,
        created_by: publisher(ctx),
        created_at_ms: ctx.now_ms,
    };
    store(txn, keys::ROUNDS, &id, &round)?;
    Ok(Outcome::Created { id })
}

pub(super) fn set_programme(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    programme: &[ProgrammeDay],
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let mut r = round(txn, id)?;
    let dates = (
        date(&r.starts_on, "starts_on")?,
        date(&r.ends_on, "ends_on")?,
    );
    let programme = checked_programme(txn, dates, programme)?;
    // The item under way stays marked where the new programme has it (the same day and
    // title, wherever items were inserted or removed around it), or not at all.
    if let Some(current) = r.current.take() {
        let under_way = r
            .programme
            .get(current.0)
            .and_then(|d| d.items.get(current.1).map(|item| (&d.date, &item.title)));
        // Of the items of that day with that title, the nearest to where it was (two
        // "Informal consultations" on one day stay apart).
        let moved = under_way.and_then(|(date, title)| {
            let day = programme.iter().position(|d| &d.date == date)?;
            let item = programme[day]
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| &i.title == title)
                .min_by_key(|(at, _)| at.abs_diff(current.1))
                .map(|(at, _)| at)?;
            Some((day, item))
        });
        if moved != Some(current) {
            schema::set_process_mark(txn, keys::ROUND_CURRENT, id, moved.as_ref())
                .map_err(failed)?;
        }
    }
    r.programme = programme;
    store(txn, keys::ROUNDS, id, &r)?;
    Ok(Outcome::Done)
}

pub(super) fn set_current_item(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    day: Option<usize>,
    item: Option<usize>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let r = round(txn, id)?;
    let current = match (day, item) {
        (None, None) => None,
        (Some(day), Some(item)) => {
            if r.programme
                .get(day)
                .and_then(|d| d.items.get(item))
                .is_none()
            {
                return Err(refuse(
                    ErrorCode::InvalidArgument,
                    format!("the programme has no item {item} on day {day}"),
                ));
            }
            Some((day, item))
        }
        _ => {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                "name both the day and the item, or neither",
            ))
        }
    };
    if r.current != current {
        // A mark of its own, not the round rewritten: the document keeps every value.
        schema::set_process_mark(txn, keys::ROUND_CURRENT, id, current.as_ref()).map_err(failed)?;
    }
    Ok(Outcome::Done)
}

pub(super) fn start_reading(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    name: &str,
    round_id: Option<&str>,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let name = readable_name(name, "a reading")?;
    if let Some(id) = round_id {
        round(txn, id)?;
    }
    let readings: Vec<Reading> =
        schema::process_values(txn, keys::READINGS, keys::READING_ID_PREFIX);
    if let Some(open) = readings.iter().find(|r| r.is_open()) {
        return Err(refuse(
            ErrorCode::ReadingInProgress,
            format!("{} ({}) is under way: end it first", open.name, open.id),
        ));
    }
    let at = |id: &Option<String>| -> Result<Option<u32>, CommandError> {
        match id {
            None => Ok(None),
            Some(id) => {
                standing_paragraph(txn, id)?;
                Ok(schema::position(txn, id))
            }
        }
    };
    if let (Some(f), Some(t)) = (at(from)?, at(to)?) {
        if f > t {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                "a reading runs forward: its first paragraph comes before its last",
            ));
        }
    }
    let id = next_id(txn, keys::READINGS, keys::READING_ID_PREFIX);
    let reading = Reading {
        id: id.clone(),
        name: name.to_string(),
        round: round_id.map(String::from),
        from: from.clone(),
        to: to.clone(),
        pointer: None,
        visits: Vec::new(),
        started_by: publisher(ctx),
        started_at_ms: ctx.now_ms,
        ended_at_ms: None,
    };
    store(txn, keys::READINGS, &id, &reading)?;
    Ok(Outcome::Created { id })
}

pub(super) fn move_pointer(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    to: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let r = open_reading(txn, id)?;
    let p = standing_paragraph(txn, to)?;
    if !covers(txn, &r, to) {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("paragraph {} is outside {}", p.label, r.name),
        ));
    }
    if r.pointer.as_deref() == Some(to) {
        return Ok(Outcome::Done);
    }
    if r.visits.len() >= MAX_READING_VISITS {
        return Err(refuse(
            ErrorCode::TooLong,
            format!("a reading records at most {MAX_READING_VISITS} moves; start another"),
        ));
    }
    // An entry of its own, not the reading rewritten: the document keeps every value.
    let visit = Visit {
        paragraph: to.to_string(),
        at_ms: ctx.now_ms,
    };
    schema::append_process_entry(txn, keys::READING_VISITS, id, &visit).map_err(failed)?;
    Ok(Outcome::Done)
}

pub(super) fn end_reading(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let mut r = open_reading(txn, id)?;
    r.ended_at_ms = Some(ctx.now_ms);
    r.pointer = None;
    // The visits stay where they are (`keys::READING_VISITS`).
    r.visits.clear();
    store(txn, keys::READINGS, id, &r)?;
    Ok(Outcome::Done)
}

/// The reading an amendment made now on `paragraph` belongs to: the one under way, if it
/// covers the paragraph.
pub(super) fn reading_for(txn: &impl ReadTxn, paragraph: &str) -> Option<String> {
    let readings: Vec<Reading> =
        schema::process_values(txn, keys::READINGS, keys::READING_ID_PREFIX);
    let open = readings.into_iter().find(Reading::is_open)?;
    covers(txn, &open, paragraph).then_some(open.id)
}
