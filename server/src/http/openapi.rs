//! The OpenAPI document of the JSON API, generated from the handlers' annotations and the
//! `qol-shared` types, served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{accounts, alerts, audit, auth, help, patients, reminders, research};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "qol API", description = "Patient-reported quality of life for clinical trials. Every error body is an ApiError, with a stable code (ErrorCode)."),
    paths(
        super::healthz,
        super::readyz,
        super::study,
        super::instruments,
        super::instrument,
        auth::staff_sign_in,
        auth::staff_set_password,
        auth::patient_activate,
        auth::patient_sign_in,
        auth::sign_out,
        auth::me,
        patients::enrol,
        patients::list,
        patients::detail,
        patients::record_event,
        patients::assessments,
        patients::submissions,
        patients::enter_form,
        patients::paper_entries,
        audit::entries,
        audit::verify,
        audit::export,
        patients::correct,
        patients::reissue_code,
        accounts::unlock_patient,
        accounts::study_setup,
        accounts::check_wording,
        accounts::apply_wording,
        accounts::check_protocol,
        accounts::amend_protocol,
        accounts::list_staff,
        accounts::create_staff,
        accounts::reset_staff_password,
        accounts::unlock_staff,
        accounts::disable_staff,
        accounts::enable_staff,
        accounts::sign_out_staff_everywhere,
        patients::my_assessments,
        patients::my_submissions,
        patients::submit,
        help::request_help,
        help::my_history,
        reminders::mine,
        reminders::set_mine,
        reminders::subscribe,
        reminders::unsubscribe,
        reminders::of_patient,
        reminders::set_of_patient,
        alerts::list,
        alerts::of_patient,
        alerts::notifications,
        alerts::acknowledge,
        alerts::resolve,
        alerts::snooze,
        alerts::snoozes,
        alerts::end_snooze,
        alerts::overdue,
        alerts::missed,
        alerts::record_missed_reason,
        research::analysis,
        research::completion,
        research::ttd,
        research::ttd_svg,
        research::means_svg,
        research::report,
        research::export_file,
    ),
    modifiers(&SessionSecurity),
    tags(
        (name = "auth", description = "sign-in for staff (password) and patients (activation code, then study id + PIN)"),
        (name = "patients", description = "staff: enrolment, events, schedules, submissions"),
        (name = "me", description = "the signed-in patient's own assessments, submissions, history, reminders and help requests"),
        (name = "alerts", description = "the nurse worklist: symptom alerts and snoozes"),
        (name = "research", description = "researchers: pseudonymised analysis, completion and exports (study ids and study days only)"),
        (name = "audit", description = "admins: the audit trail filtered, verified and exported"),
    )
)]
pub struct ApiDoc;

/// Sessions: a bearer token, or the `qol_session` cookie. The scopes of each route name the roles
/// it admits.
#[derive(Debug)]
struct SessionSecurity;

impl Modify for SessionSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("qol_session"))),
        );
    }
}

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
