//! `award-badge {member_id, badge}`: a member earns each badge once. The
//! `loyalty` effect executes it.

use library_shared::{BadgeAwarded, Execution, event, id, input, member_tag, payload};
use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

#[derive(Default)]
struct Seen {
    member_exists: bool,
    has_badge: bool,
}

thread_local! {
    static RUN: Execution<BadgeAwarded, Seen> = const { Execution::new() };
}

struct AwardBadge;

impl Command for AwardBadge {
    fn prepare(json: String) -> Result<Vec<QueryItem>, CommandError> {
        let award: BadgeAwarded = input(&json)?;
        id("member_id", &award.member_id)?;
        id("badge", &award.badge)?;
        let query = vec![QueryItem {
            types: vec!["MemberRegistered".into(), "BadgeAwarded".into()],
            tags: vec![member_tag(&award.member_id)],
        }];
        RUN.with(|run| run.start(award));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        RUN.with(|run| {
            run.fold(|award, seen| {
                for e in &events {
                    match e.event_type.as_str() {
                        "MemberRegistered" => seen.member_exists = true,
                        "BadgeAwarded" => {
                            let badge = payload::<BadgeAwarded>(e).map(|b| b.badge);
                            seen.has_badge |= badge.as_deref() == Some(award.badge.as_str());
                        }
                        _ => {}
                    }
                }
            })
        });
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let (award, seen) = RUN.with(Execution::finish)?;
        if !seen.member_exists {
            return Err(CommandError::Rejected(format!("no member '{}'", award.member_id)));
        }
        if seen.has_badge {
            // Already earned: nothing to append, and not an error.
            return Ok(vec![]);
        }
        wbx_guest::info!("{} earns the '{}' badge", award.member_id, award.badge);
        Ok(vec![event("BadgeAwarded", vec![member_tag(&award.member_id)], &award)])
    }
}

wbx_guest::export_command!(AwardBadge);
