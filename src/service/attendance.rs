//! Attending / Can't make it: an answer per person and occurrence, given
//! with a reminder's buttons or `/meeting attend id:N [answer:no]`. The next
//! reminder of that occurrence counts the answers, and its minutes list who
//! could not make it.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Result, user_err};
use crate::service::meetings::{Actor, Meetings, Series};

/// What an answer recorded.
pub struct Answered {
    pub series: Series,
    /// The occurrence answered for.
    pub at: i64,
    /// Who answered: the attendee role the actor holds, else their name.
    pub person: String,
}

/// The answers for one occurrence, as a reminder shows them:
/// `2 attending (ceo, cto); can't make it: cfo`. `None` when nobody answered.
pub fn summary(answers: &[(String, bool)]) -> Option<String> {
    if answers.is_empty() {
        return None;
    }
    let yes: Vec<&str> = answers
        .iter()
        .filter(|(_, a)| *a)
        .map(|(p, _)| p.as_str())
        .collect();
    let no: Vec<&str> = answers
        .iter()
        .filter(|(_, a)| !*a)
        .map(|(p, _)| p.as_str())
        .collect();
    let mut parts = Vec::new();
    if !yes.is_empty() {
        parts.push(format!("{} attending ({})", yes.len(), yes.join(", ")));
    }
    if !no.is_empty() {
        parts.push(format!("can't make it: {}", no.join(", ")));
    }
    Some(parts.join("; "))
}

impl Meetings {
    /// Record that the actor attends (or cannot make it to) an occurrence
    /// of series `id`: the one at `at` (a reminder's button), else the
    /// next one. An occurrence that has ended cannot be answered for.
    pub async fn attend(
        &self,
        config: &Config,
        actor: &Actor,
        id: i64,
        at: Option<i64>,
        attending: bool,
        now: DateTime<Utc>,
    ) -> Result<Answered> {
        let s = self.load(&actor.workspace, id).await?;
        let now_ts = now.timestamp();
        let at = match at {
            Some(at) if s.end_of(at) <= now_ts => {
                return user_err(format!(
                    "that meeting of {} has already taken place",
                    s.row.title
                ));
            }
            Some(at) if s.row.next_at == Some(at) || at <= now_ts => at,
            Some(_) => {
                return user_err(format!(
                    "that is not the next meeting of {}; see /meeting next id:{id}",
                    s.row.title
                ));
            }
            None => match s.row.next_at {
                Some(at) => at,
                None => return user_err(format!("series {id} has no next meeting")),
            },
        };
        let roles = config.roles_for(actor);
        let person = roles
            .iter()
            .find(|r| s.attendees.iter().any(|a| a == r.as_str()))
            .or(roles.first())
            .cloned()
            .unwrap_or_else(|| actor.user.clone());
        self.store
            .set_attendance(&actor.workspace, s.row.id, at, &person, attending, now_ts)
            .await?;
        Ok(Answered {
            series: s,
            at,
            person,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn the_summary_counts_who_attends_and_names_who_cannot() {
        assert_eq!(summary(&[]), None);
        let answers = [
            ("ceo".to_string(), true),
            ("cfo".to_string(), false),
            ("cto".to_string(), true),
        ];
        assert_eq!(
            summary(&answers).as_deref(),
            Some("2 attending (ceo, cto); can't make it: cfo")
        );
    }
}
