//! `register-member {member_id, name}`: a member id is registered once.

use library_shared::{MemberRegistered, check_id};
use wbx_guest::{CommandError, Decide, Exists, NewEvent, emit};

struct RegisterMember;

impl Decide for RegisterMember {
    type Input = MemberRegistered;
    type Folds = Exists<MemberRegistered>;

    fn folds(member: &MemberRegistered) -> Result<Self::Folds, CommandError> {
        check_id("member_id", &member.member_id)?;
        if member.name.trim().is_empty() {
            return Err(CommandError::InvalidInput("name: must not be empty".into()));
        }
        Ok(Exists::tagged("member_id", &member.member_id))
    }

    fn decide(member: MemberRegistered, known: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if known.0 {
            return Err(CommandError::Rejected(format!(
                "member '{}' is already registered",
                member.member_id
            )));
        }
        wbx_guest::info!("welcome, {}", member.name);
        Ok(emit![member])
    }
}

wbx_guest::command!(RegisterMember);
