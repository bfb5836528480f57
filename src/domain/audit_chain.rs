//! Tamper evidence for the audit trail: sealed events form a SHA-256 hash
//! chain, each link committing to the previous link and to every column of
//! its event. Editing a sealed row breaks its own link; deleting one leaves a
//! gap in the sequence; cutting the tail disagrees with the recorded head.
//!
//! The chain order is the order events were *sealed* (`seq`), not their ids:
//! on PostgreSQL ids are handed out before commit, so a lower id can commit
//! later. Sealing only ever appends committed rows, so the chain never needs
//! to be rewritten.
use sha2::{Digest, Sha256};

/// A link's hash; the chain starts from all zeroes.
pub type LinkHash = [u8; 32];
pub const GENESIS: LinkHash = [0; 32];

/// The columns of one audit event, as read back from the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content<'a> {
    pub id: i64,
    /// RFC 3339 with nanoseconds, from the stored value.
    pub occurred_at: String,
    pub actor_role: &'a str,
    pub actor_id: &'a str,
    pub channel: Option<&'a str>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before_version: Option<i32>,
    pub after_version: Option<i32>,
    pub detail: &'a str,
}

/// `SHA-256("greenchannel-audit-v1" ‖ prev ‖ seq ‖ fields)`, every field
/// length-prefixed (absent ones marked), so no two different events hash
/// alike by shifting bytes between fields.
pub fn link(prev: &LinkHash, seq: i64, c: &Content<'_>) -> LinkHash {
    let mut h = Sha256::new();
    h.update(b"greenchannel-audit-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    let mut field = |v: Option<&[u8]>| match v {
        Some(b) => {
            h.update([1u8]);
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
        None => h.update([0u8]),
    };
    field(Some(&c.id.to_be_bytes()));
    field(Some(c.occurred_at.as_bytes()));
    field(Some(c.actor_role.as_bytes()));
    field(Some(c.actor_id.as_bytes()));
    field(c.channel.map(str::as_bytes));
    field(Some(c.action.as_bytes()));
    field(Some(c.subject_type.as_bytes()));
    field(Some(c.subject_id.as_bytes()));
    field(c.before_version.map(i32::to_be_bytes).as_ref().map(|b| &b[..]));
    field(c.after_version.map(i32::to_be_bytes).as_ref().map(|b| &b[..]));
    field(Some(c.detail.as_bytes()));
    h.finalize().into()
}

/// Why the chain does not hold, at the first link where it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Break {
    /// The row stored at `seq` does not hash to its recorded link: it was edited.
    Altered { seq: i64, id: i64 },
    /// `seq` was expected next but the next sealed link is `found`: links deleted.
    Missing { seq: i64, found: i64 },
    /// The link at `seq` is there but the event it sealed is not: deleted.
    Deleted { seq: i64, id: i64 },
    /// The chain ends at `last` but the head says `head`: the tail was cut
    /// (or the head was edited).
    Head { last: i64, head: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { seq, id } => {
                write!(f, "link {seq} (audit event {id}) was altered: its content no longer matches its hash")
            }
            Break::Missing { seq, found } => {
                write!(f, "link {seq} is missing: the next sealed link is {found} (rows were deleted)")
            }
            Break::Deleted { seq, id } => {
                write!(f, "link {seq} (audit event {id}) has no event: the event was deleted")
            }
            Break::Head { last, head } => write!(
                f,
                "the chain ends at link {last} but its recorded head is link {head} (the newest links were removed)"
            ),
        }
    }
}

/// Walks sealed links in `seq` order, one page at a time.
pub struct Walker {
    prev: LinkHash,
    next_seq: i64,
    checked: u64,
}

impl Default for Walker {
    fn default() -> Self {
        Walker { prev: GENESIS, next_seq: 1, checked: 0 }
    }
}

impl Walker {
    /// Checks the next stored link: its position, then its hash.
    pub fn step(&mut self, seq: i64, stored: &LinkHash, c: &Content<'_>) -> Result<(), Break> {
        if seq != self.next_seq {
            return Err(Break::Missing { seq: self.next_seq, found: seq });
        }
        let expected = link(&self.prev, seq, c);
        if &expected != stored {
            return Err(Break::Altered { seq, id: c.id });
        }
        self.prev = expected;
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// The next stored link seals an event that no longer exists.
    pub fn event_gone(&self, seq: i64, id: i64) -> Break {
        if seq != self.next_seq {
            Break::Missing { seq: self.next_seq, found: seq }
        } else {
            Break::Deleted { seq, id }
        }
    }

    /// After the last stored link: the recorded head must be where the walk ended.
    pub fn finish(self, head_seq: i64, head_hash: &LinkHash) -> Result<Verified, Break> {
        let last = self.next_seq - 1;
        if head_seq != last || (last > 0 && head_hash != &self.prev) {
            return Err(Break::Head { last, head: head_seq });
        }
        Ok(Verified { links: self.checked, head: self.prev })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub links: u64,
    pub head: LinkHash,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, detail: &str) -> (i64, String) {
        (id, detail.to_string())
    }

    fn content(id: i64, detail: &str) -> Content<'_> {
        Content {
            id,
            occurred_at: "2026-11-23T04:00:00.123456000Z".into(),
            actor_role: "applicant",
            actor_id: "u1",
            channel: Some("wechat"),
            action: "application.submitted",
            subject_type: "application",
            subject_id: "a1",
            before_version: Some(1),
            after_version: None,
            detail,
        }
    }

    /// Seals `events` in order, returning (seq, hash) per event and the head.
    fn seal(events: &[(i64, String)]) -> Vec<(i64, LinkHash)> {
        let mut prev = GENESIS;
        events
            .iter()
            .enumerate()
            .map(|(i, (id, d))| {
                let seq = i as i64 + 1;
                prev = link(&prev, seq, &content(*id, d));
                (seq, prev)
            })
            .collect()
    }

    fn walk(events: &[(i64, String)], links: &[(i64, LinkHash)], head: (i64, LinkHash)) -> Result<Verified, Break> {
        let mut w = Walker::default();
        for ((id, d), (seq, h)) in events.iter().zip(links) {
            w.step(*seq, h, &content(*id, d))?;
        }
        w.finish(head.0, &head.1)
    }

    #[test]
    fn an_untouched_chain_verifies_and_an_empty_one_too() {
        let ev = vec![event(3, "{}"), event(1, "{\"a\":1}"), event(2, "{}")];
        let links = seal(&ev);
        let head = *links.last().unwrap();
        assert_eq!(walk(&ev, &links, head).unwrap().links, 3);
        assert_eq!(walk(&[], &[], (0, GENESIS)).unwrap().links, 0);
    }

    #[test]
    fn editing_any_field_breaks_that_link() {
        let ev = vec![event(1, "{}"), event(2, "{}"), event(3, "{}")];
        let links = seal(&ev);
        let mut w = Walker::default();
        w.step(1, &links[0].1, &content(1, "{}")).unwrap();
        let mut edited = content(2, "{}");
        edited.actor_id = "u2";
        assert_eq!(w.step(2, &links[1].1, &edited), Err(Break::Altered { seq: 2, id: 2 }));
        for tweak in 0..4 {
            let mut c = content(1, "{}");
            match tweak {
                0 => c.channel = None,
                1 => c.after_version = Some(1),
                2 => c.occurred_at = "2026-11-23T04:00:00.123457000Z".into(),
                _ => c.detail = "{ }",
            }
            assert_ne!(link(&GENESIS, 1, &c), links[0].1, "tweak {tweak}");
        }
        // Moving bytes between adjacent fields changes the hash too.
        let mut a = content(1, "{}");
        a.subject_type = "applicationa";
        a.subject_id = "1";
        assert_ne!(link(&GENESIS, 1, &a), links[0].1);
    }

    #[test]
    fn a_deleted_link_is_reported_as_missing_and_a_cut_tail_by_the_head() {
        let ev = vec![event(1, "{}"), event(2, "{}"), event(3, "{}"), event(4, "{}")];
        let links = seal(&ev);
        let head = *links.last().unwrap();
        let mut w = Walker::default();
        w.step(1, &links[0].1, &content(1, "{}")).unwrap();
        assert_eq!(w.step(3, &links[2].1, &content(3, "{}")), Err(Break::Missing { seq: 2, found: 3 }));
        // A link kept while its event was deleted, in place or after a gap.
        assert_eq!(w.event_gone(2, 2), Break::Deleted { seq: 2, id: 2 });
        assert_eq!(w.event_gone(3, 3), Break::Missing { seq: 2, found: 3 });
        // Dropping the last two rows: every remaining link is fine, the head is not.
        assert_eq!(walk(&ev[..2], &links[..2], head), Err(Break::Head { last: 2, head: 4 }));
        // A forged head must also match the hash of the link it names.
        assert_eq!(walk(&ev[..2], &links[..2], (2, GENESIS)), Err(Break::Head { last: 2, head: 2 }));
    }

    #[test]
    fn re_hashing_an_edited_row_still_breaks_the_next_link() {
        let ev = vec![event(1, "{}"), event(2, "{}"), event(3, "{}")];
        let mut links = seal(&ev);
        let head = *links.last().unwrap();
        // The attacker edits row 2 and recomputes its own hash...
        let forged = content(2, "{\"forged\":true}");
        links[1].1 = link(&links[0].1, 2, &forged);
        let mut ev2 = ev.clone();
        ev2[1].1 = "{\"forged\":true}".into();
        // ...which row 3 still contradicts.
        assert_eq!(walk(&ev2, &links, head), Err(Break::Altered { seq: 3, id: 3 }));
    }
}
