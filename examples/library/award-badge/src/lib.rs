//! `award-badge {member_id, badge}`: a member earns each badge once. The
//! `loyalty` effect executes it.

use library_shared::{BadgeAwarded, MemberRegistered, check_id};
use wbx_guest::{CommandError, Decide, Exists, NewEvent, QueryItem, emit};

struct AwardBadge;

impl Decide for AwardBadge {
    type Input = BadgeAwarded;
    type Folds = (Exists<MemberRegistered>, Exists<BadgeAwarded>);

    fn folds(award: &BadgeAwarded) -> Result<Self::Folds, CommandError> {
        check_id("member_id", &award.member_id)?;
        check_id("badge", &award.badge)?;
        let this_badge = QueryItem::of::<BadgeAwarded>()
            .tag("member_id", &award.member_id)
            .tag("badge", &award.badge);
        Ok((
            Exists::tagged("member_id", &award.member_id),
            Exists::matching(this_badge),
        ))
    }

    fn decide(
        award: BadgeAwarded,
        (member, earned): Self::Folds,
    ) -> Result<Vec<NewEvent>, CommandError> {
        if !member.0 {
            return Err(CommandError::Rejected(format!("no member '{}'", award.member_id)));
        }
        if earned.0 {
            // Already earned: nothing to append, and not an error.
            return Ok(vec![]);
        }
        wbx_guest::info!("{} earns the '{}' badge", award.member_id, award.badge);
        Ok(emit![award])
    }
}

wbx_guest::command!(AwardBadge);
