//! The application life cycle. Every transition the services make goes
//! through [`Status::apply`], so an impossible move is refused in one place.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    Submitted,
    Returned,
    Approved,
    Rejected,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Edit,
    Sign,
    Submit,
    Approve,
    Reject,
    Return,
    Withdraw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: Status,
    pub event: Event,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Draft, Status::Submitted, Status::Returned, Status::Approved, Status::Rejected, Status::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Decided or abandoned: nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Approved | Status::Rejected | Status::Withdrawn)
    }

    /// The applicant holds the pen (may edit and sign).
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }

    pub fn apply(self, event: Event) -> Result<Status, InvalidTransition> {
        use Event as E;
        use Status as S;
        let next = match (self, event) {
            (S::Draft | S::Returned, E::Edit | E::Sign) => self,
            (S::Draft | S::Returned, E::Submit) => S::Submitted,
            (S::Submitted, E::Approve) => S::Approved,
            (S::Submitted, E::Reject) => S::Rejected,
            (S::Submitted, E::Return) => S::Returned,
            (S::Draft | S::Submitted | S::Returned, E::Withdraw) => S::Withdrawn,
            _ => return Err(InvalidTransition { from: self, event }),
        };
        Ok(next)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_paths() {
        assert_eq!(Status::Draft.apply(Event::Submit), Ok(Status::Submitted));
        assert_eq!(Status::Submitted.apply(Event::Approve), Ok(Status::Approved));
        assert_eq!(Status::Submitted.apply(Event::Return), Ok(Status::Returned));
        assert_eq!(Status::Returned.apply(Event::Edit), Ok(Status::Returned));
        assert_eq!(Status::Returned.apply(Event::Submit), Ok(Status::Submitted));
        assert_eq!(Status::Submitted.apply(Event::Withdraw), Ok(Status::Withdrawn));
    }

    #[test]
    fn final_states_accept_nothing() {
        for s in [Status::Approved, Status::Rejected, Status::Withdrawn] {
            for e in
                [Event::Edit, Event::Sign, Event::Submit, Event::Approve, Event::Reject, Event::Return, Event::Withdraw]
            {
                assert!(s.apply(e).is_err(), "{s} accepted {e:?}");
            }
        }
    }

    #[test]
    fn only_submitted_applications_are_decided_and_only_open_ones_edited() {
        for s in Status::ALL {
            for e in [Event::Approve, Event::Reject, Event::Return] {
                assert_eq!(s.apply(e).is_ok(), s == Status::Submitted, "{s} {e:?}");
            }
            assert_eq!(s.apply(Event::Edit).is_ok(), s.is_editable(), "{s}");
        }
    }

    #[test]
    fn status_strings_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
