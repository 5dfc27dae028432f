//! The researchers' view (pseudonymised): pre/post-treatment change, completion, exports.

use leptos::prelude::*;

use super::text::{S, s};
use super::{Part, Shell};

#[component]
pub fn Research() -> impl IntoView {
    view! {
        <Shell part=Part::Research>
            <h1 id="screen-heading" tabindex="-1">{s(S::ResearchTitle)}</h1>
        </Shell>
    }
}
