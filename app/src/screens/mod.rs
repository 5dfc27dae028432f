//! One file per screen.

mod home;
mod instrument_preview;
mod not_found;

pub use home::Home;
pub use instrument_preview::InstrumentPreview;
pub use not_found::NotFound;
