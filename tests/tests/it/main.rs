//! qol's end-to-end tests, in one binary: the real application on port 0, each test with a fresh
//! database, on SQLite and on PostgreSQL; and the built app in headless Chromium.

mod admin;
mod alerts;
mod amendments;
mod api;
mod audit_trail;
mod browser;
mod clinic;
mod clock;
mod durability;
mod edges;
mod error_codes;
mod fuzz;
mod help;
mod load;
mod measure;
mod metrics;
mod never_lose;
mod notify;
mod phone;
mod release;
mod reminders;
mod research;
mod research_record;
mod screenshots;
mod security;
mod staff_console;
mod staff_entry;
mod storage;
mod survival;
mod ttd;
