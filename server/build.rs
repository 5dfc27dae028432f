//! `sqlx::migrate!` embeds `migrations/` at compile time: a migration added or changed rebuilds
//! the server (as `sqlx migrate build-script` would write).

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
