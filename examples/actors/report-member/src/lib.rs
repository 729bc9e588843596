//! `report-member {member, room, text}`: a command of the events model that
//! the moderator actor executes for each line it flags. It appends
//! `MemberReported`, numbered per member (`strike`), so the reports outlive
//! every process: the moderator's own counts go when it restarts, these
//! stay in the event store (`wbx events --type MemberReported`).

use serde::{Deserialize, Serialize};
use wbx_guest::{CommandError, Count, Decide, Event, NewEvent, emit};

/// Tagged `member:<name>`, so a decision reads that member's reports only.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct MemberReported {
    #[tag]
    pub member: String,
    pub room: String,
    pub text: String,
    /// 1 for a member's first report, 2 for the second, …
    pub strike: u64,
}

#[derive(Deserialize)]
struct Report {
    member: String,
    room: String,
    text: String,
}

struct ReportMember;

impl Decide for ReportMember {
    type Input = Report;
    type Folds = Count<MemberReported>;

    fn folds(report: &Report) -> Result<Self::Folds, CommandError> {
        if report.member.is_empty() {
            return Err(CommandError::InvalidInput(
                "member: must not be empty".into(),
            ));
        }
        Ok(Count::tagged("member", &report.member))
    }

    fn decide(report: Report, earlier: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        Ok(emit![MemberReported {
            member: report.member,
            room: report.room,
            text: report.text,
            strike: earlier.0 + 1,
        }])
    }
}

wbx_guest::command!(ReportMember);
