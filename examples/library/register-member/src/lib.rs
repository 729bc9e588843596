//! `register-member {member_id, name}`: a member id is registered once.

use library_shared::{Execution, MemberRegistered, event, id, input, item, member_tag};
use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

thread_local! {
    static RUN: Execution<MemberRegistered, bool> = const { Execution::new() };
}

struct RegisterMember;

impl Command for RegisterMember {
    fn prepare(json: String) -> Result<Vec<QueryItem>, CommandError> {
        let member: MemberRegistered = input(&json)?;
        id("member_id", &member.member_id)?;
        if member.name.trim().is_empty() {
            return Err(CommandError::InvalidInput("name: must not be empty".into()));
        }
        let query = vec![item(&["MemberRegistered"], member_tag(&member.member_id))];
        RUN.with(|run| run.start(member));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        RUN.with(|run| run.fold(|_, exists| *exists |= !events.is_empty()));
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let (member, exists) = RUN.with(Execution::finish)?;
        if exists {
            return Err(CommandError::Rejected(format!(
                "member '{}' is already registered",
                member.member_id
            )));
        }
        wbx_guest::info!("welcome, {}", member.name);
        Ok(vec![event(
            "MemberRegistered",
            vec![member_tag(&member.member_id)],
            &member,
        )])
    }
}

wbx_guest::export_command!(RegisterMember);
