//! Co-sponsorship and votes on amendments. The author invites co-sponsors from the missions
//! known to the document (those that joined it as delegations); an invitation stays pending
//! until the invited mission accepts it (then it sponsors: it may type into the amendment) or
//! declines it; the author removes a co-sponsor or cancels an invitation, and a co-sponsor may
//! withdraw its own name. Support and opposition are one list each, a mission in one at most.

use yrs::{Array, Out, TransactionMut};

use super::error::{refuse, schema_error, CommandError, ErrorCode};
use super::guards::open_amendment;
use super::{Context, Outcome};
use crate::schema::{self, keys};
use crate::session::Role;

/// Which way a delegation votes on an amendment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vote {
    Support,
    Oppose,
}

/// Adds `mission` to one of the amendment's mission lists; false if it was there already.
fn add_mission(txn: &mut TransactionMut, amendment: &str, key: &str, mission: &str) -> bool {
    let Some(list) = schema::amendment_list(txn, amendment, key) else {
        return false;
    };
    let present = list
        .iter(txn)
        .any(|v| matches!(v, Out::Any(yrs::Any::String(s)) if &*s == mission));
    if !present {
        list.push_back(txn, mission);
    }
    !present
}

/// Removes `mission` from one of the amendment's mission lists; false if it was not there.
fn remove_mission(txn: &mut TransactionMut, amendment: &str, key: &str, mission: &str) -> bool {
    let Some(list) = schema::amendment_list(txn, amendment, key) else {
        return false;
    };
    let at = list
        .iter(txn)
        .position(|v| matches!(v, Out::Any(yrs::Any::String(s)) if &*s == mission));
    match at {
        Some(at) => {
            list.remove(txn, at as u32);
            true
        }
        None => false,
    }
}

pub(super) fn invite_sponsor(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    mission: &str,
) -> Result<Outcome, CommandError> {
    let a = open_amendment(txn, id)?;
    if a.author() != Some(ctx.actor.mission) {
        return Err(refuse(
            ErrorCode::NotTheAuthor,
            "only the author invites co-sponsors",
        ));
    }
    if a.is_sponsored_by(mission) {
        return Err(refuse(
            ErrorCode::AlreadyASponsor,
            format!("{mission} already sponsors {id}"),
        ));
    }
    if a.invited.iter().any(|m| m == mission) {
        return Err(refuse(
            ErrorCode::AlreadyInvited,
            format!("{mission} is invited to co-sponsor {id} already"),
        ));
    }
    if !schema::has_mission(txn, mission) {
        return Err(refuse(
            ErrorCode::UnknownMission,
            format!("{mission} has not joined this negotiation as a delegation"),
        ));
    }
    let mut invited = a.invited;
    invited.push(mission.to_string());
    schema::set_invited(txn, id, &invited).map_err(schema_error)?;
    Ok(Outcome::Done)
}

/// The invited mission accepts (it co-sponsors from now on) or declines.
pub(super) fn answer_invitation(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    accept: bool,
) -> Result<Outcome, CommandError> {
    let a = open_amendment(txn, id)?;
    let mission = ctx.actor.mission;
    if ctx.actor.role != Role::Delegation || !a.invited.iter().any(|m| m == mission) {
        return Err(refuse(
            ErrorCode::NotInvited,
            format!("{mission} is not invited to co-sponsor {id}"),
        ));
    }
    let invited: Vec<String> = a.invited.into_iter().filter(|m| m != mission).collect();
    schema::set_invited(txn, id, &invited).map_err(schema_error)?;
    if accept {
        // A sponsor supports its amendment already: it leaves the vote lists.
        remove_mission(txn, id, keys::SUPPORTERS, mission);
        remove_mission(txn, id, keys::OPPOSERS, mission);
        schema::add_sponsor(txn, id, mission).map_err(schema_error)?;
    }
    Ok(Outcome::Done)
}

pub(super) fn remove_sponsor(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    mission: &str,
) -> Result<Outcome, CommandError> {
    let a = open_amendment(txn, id)?;
    let author = a.author();
    if author == Some(mission) {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "the author cannot be removed; withdraw instead",
        ));
    }
    if author != Some(ctx.actor.mission) && mission != ctx.actor.mission {
        return Err(refuse(
            ErrorCode::NotTheAuthor,
            "only the author, or the co-sponsor itself, may remove a co-sponsor",
        ));
    }
    // The author may also take back an invitation not yet answered.
    if a.invited.iter().any(|m| m == mission) {
        let invited: Vec<String> = a.invited.into_iter().filter(|m| m != mission).collect();
        schema::set_invited(txn, id, &invited).map_err(schema_error)?;
        return Ok(Outcome::Done);
    }
    if !remove_mission(txn, id, keys::SPONSORS, mission) {
        return Err(refuse(
            ErrorCode::NotASponsor,
            format!("{mission} does not sponsor {id}"),
        ));
    }
    Ok(Outcome::Done)
}

/// Support or opposition: the actor's mission moves to one list, out of the other.
pub(super) fn vote(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    vote: Vote,
) -> Result<Outcome, CommandError> {
    let a = open_amendment(txn, id)?;
    if a.is_sponsored_by(ctx.actor.mission) {
        return Err(refuse(
            ErrorCode::SponsorCannotVote,
            "sponsors support their amendment already",
        ));
    }
    let (add, remove) = match vote {
        Vote::Support => (keys::SUPPORTERS, keys::OPPOSERS),
        Vote::Oppose => (keys::OPPOSERS, keys::SUPPORTERS),
    };
    remove_mission(txn, id, remove, ctx.actor.mission);
    add_mission(txn, id, add, ctx.actor.mission);
    Ok(Outcome::Done)
}

/// The server records a mission that joined the document as a delegation.
pub(super) fn record_mission(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    mission: &str,
) -> Result<Outcome, CommandError> {
    if ctx.actor.mission != crate::policy::SERVER_OWNER {
        return Err(refuse(
            ErrorCode::ForbiddenRole,
            "the server records who joins",
        ));
    }
    super::guards::readable_name(mission, "a mission")?;
    schema::record_mission(txn, mission, ctx.now_ms);
    Ok(Outcome::Done)
}
