//! The one clock. Every instant qol acts on (a receipt, a lockout, a card's waiting time, the
//! study's today) is read from a [`Clock`] that the application state carries: the system's in
//! production, a settable one in tests and in the demo seed (which writes a history as it
//! happened). Nothing else reads the system time; a tidy test (`server/tests/tidy.rs`) keeps it so.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock; else a time that stands still until set or advanced.
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that reads `at` until it is set or advanced.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(Arc::new(Mutex::new(at))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => Utc::now(),
            Some(at) => *at.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Sets a fixed clock to `at` (every copy of it reads the new time); a system clock cannot
    /// be set, and says so.
    pub fn set(&self, at: DateTime<Utc>) {
        let fixed = self.fixed.as_ref().expect("only a fixed clock can be set");
        *fixed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// Moves a fixed clock on by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_set_and_its_copies_follow() {
        let start = DateTime::parse_from_rfc3339("2026-03-16T01:30:00Z").unwrap().to_utc();
        let clock = Clock::fixed(start);
        let copy = clock.clone();
        assert_eq!(copy.now(), start);
        clock.advance(chrono::Duration::days(1));
        assert_eq!(copy.now(), start + chrono::Duration::days(1));
        let system = Clock::system();
        let before = Utc::now();
        assert!(system.now() >= before);
    }
}
