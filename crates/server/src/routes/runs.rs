//! Runbook runs on an incident, step by step. The server binds variables (shell-quoted by the
//! runbook crate) and checks confirmations through the core's rules; the step itself runs on
//! the responder's machine (the CLI posts the result back) or, when `[runbooks]
//! execute_on_server = true`, on the server. Every start, result, skip and interruption is an
//! event on the incident's timeline.

use std::collections::BTreeMap;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sevwatch_core::runbook_run::{find_step, incident_vars, MAX_STEP_OUTPUT};
use sevwatch_core::{Action, Command, Confirmation, Incident, IncidentId, RunbookRun, StepRisk, StepStatus};
use sevwatch_store::IncidentOp;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::routes::run_on_server;
use crate::routes::runbooks::parse_record;
use crate::AppState;

pub fn router() -> Router<AppState> {
    let base = "/api/v1/incidents/{id}/runbook-runs";
    Router::new()
        .route(base, post(start_run))
        .route(&format!("{base}/{{run}}"), get(show_run))
        .route(&format!("{base}/{{run}}/steps/{{step}}/start"), post(start_step))
        .route(
            &format!("{base}/{{run}}/steps/{{step}}/result"),
            post(step_result).layer(DefaultBodyLimit::max(4 * MAX_STEP_OUTPUT)),
        )
        .route(&format!("{base}/{{run}}/steps/{{step}}/skip"), post(skip_step))
        .route(&format!("{base}/{{run}}/steps/{{step}}/interrupt"), post(interrupt_step))
}

fn ids(id: &str, run: &str, step: Option<&str>) -> Result<(IncidentId, u32, usize), ApiError> {
    let id: IncidentId = id.parse().map_err(ApiError::not_found)?;
    let run: u32 = run.parse().map_err(|_| ApiError::not_found(format!("no runbook run {run:?}")))?;
    let step: usize = match step {
        Some(s) => s.parse().map_err(|_| ApiError::not_found(format!("no step {s:?}")))?,
        None => 0,
    };
    Ok((id, run, step))
}

async fn exec(state: &AppState, caller: &Caller, id: IncidentId, command: Command) -> Result<Incident, ApiError> {
    caller.require(Action::Respond)?;
    let op = IncidentOp { target: Some(id), command, actor: caller.name.clone(), now: state.now() };
    Ok(state.store.execute(op).await?.incident)
}

fn run_of(inc: &Incident, run: u32) -> Result<RunbookRun, ApiError> {
    inc.runbook_runs
        .iter()
        .find(|r| r.id == run)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{} has no runbook run {run}", inc.id)))
}

/// A run with nothing left to do (and nothing running) needs its shell session no more.
async fn close_if_done(state: &AppState, inc: &Incident, run: u32) {
    let done = inc
        .runbook_runs
        .iter()
        .find(|r| r.id == run)
        .is_some_and(|r| r.next_step().is_none() && !r.state.iter().any(|s| s.status == StepStatus::Running));
    if done {
        state.sessions.close(inc.id, run).await;
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    pub runbook: String,
    /// Default: the latest version.
    pub version: Option<i64>,
    /// Section title (case-insensitive).
    pub section: String,
    /// Values for the steps' placeholders, e.g. `{"agent-id": "a-17"}`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// The scenario to follow ("B") when the section has scenarios. Without one, the scenario
    /// whose label hints the incident's alert labels match; when none does, 422 with the list.
    pub scenario: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunAnswer {
    pub incident: String,
    pub run: RunbookRun,
}

/// Start a run of one runbook section on an incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs", tag = "runbooks", request_body = StartRun, params(("id" = String, Path)),
    responses((status = 201, body = RunAnswer), (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<RunAnswer>), ApiError> {
    caller.require(Action::Respond)?;
    let (id, _, _) = ids(&id, "0", None)?;
    let inc = state.store.incident(id).await?;
    let record = state.store.runbook(&req.runbook, req.version).await?.ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "runbook",
            format!("no runbook {:?} (import it first)", req.runbook),
        )
    })?;
    let parsed = parse_record(&record)?;
    let wanted = req.section.trim();
    let section = parsed.sections.iter().find(|s| s.title.eq_ignore_ascii_case(wanted)).ok_or_else(|| {
        let with_steps: Vec<&str> =
            parsed.sections.iter().filter(|s| s.steps().next().is_some()).map(|s| s.title.as_str()).collect();
        ApiError::invalid(
            "section",
            format!("{} has no section {wanted:?}; sections with steps: {}", record.name, with_steps.join("; ")),
        )
    })?;
    // Values come from the incident, then the labels of its alerts (newest last wins), then
    // what the responder passed; all are shell-quoted when bound. The labels also choose the
    // scenario when none is named.
    let mut labels = BTreeMap::new();
    for row in state.store.alerts(Some(inc.id), false, 50).await?.iter().rev() {
        if let Some(l) = row.alert["labels"].as_object() {
            labels.extend(l.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))));
        }
    }
    let plan = sevwatch_runbook::plan(section, req.scenario.as_deref(), &labels)
        .map_err(|e| ApiError::invalid("scenario", e.to_string()))?;
    let mut vars = incident_vars(&inc);
    vars.extend(labels);
    vars.extend(req.vars);
    let cmd = Command::StartRunbookRun {
        runbook: record.name.clone(),
        version: record.version,
        section: section.title.clone(),
        steps: plan.steps,
        vars,
        scenario: plan.scenario,
    };
    let inc = exec(&state, &caller, id, cmd).await?;
    let run = inc.runbook_runs.last().cloned().expect("a started run is in the state");
    Ok((StatusCode::CREATED, Json(RunAnswer { incident: inc.id.to_string(), run })))
}

#[derive(Serialize)]
pub struct RunWithOutputs {
    pub incident: String,
    pub run: RunbookRun,
    /// The recorded results, oldest first: `{step, exit_code, duration_ms, output, truncated, cwd,
    /// exported, at, actor}`.
    pub results: Vec<serde_json::Value>,
}

/// A run with its steps' states and recorded outputs.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/runbook-runs/{run}", tag = "runbooks", params(("id" = String, Path), ("run" = u32, Path)),
    responses((status = 200, description = "the run and its results"), (status = 404, body = crate::Problem)))]
pub async fn show_run(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, run)): Path<(String, String)>,
) -> Result<Json<RunWithOutputs>, ApiError> {
    caller.require(Action::Read)?;
    let (id, run, _) = ids(&id, &run, None)?;
    let inc = state.store.incident(id).await?;
    let r = run_of(&inc, run)?;
    let events = state.store.timeline(id, 0, 10_000).await?;
    let results = events
        .iter()
        .filter_map(|e| match &e.event.kind {
            sevwatch_core::EventKind::RunbookStepFinished {
                run: er,
                step,
                exit_code,
                duration_ms,
                output,
                truncated,
                cwd,
                exported,
            } if *er == run => Some(
                serde_json::json!({ "step": step, "exit_code": exit_code, "duration_ms": duration_ms, "output": output,
                    "truncated": truncated, "cwd": cwd, "exported": exported, "at": e.event.at, "actor": e.event.actor }),
            ),
            _ => None,
        })
        .collect();
    Ok(Json(RunWithOutputs { incident: inc.id.to_string(), run: r, results }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StartStep {
    /// Confirms a mutating (or unknown) step.
    #[serde(default)]
    pub confirm: bool,
    /// The incident id typed back: confirms a destructive step.
    pub confirm_destructive: Option<String>,
    /// More values for placeholders (merged over the run's).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Run it on the server: only when `[runbooks] execute_on_server = true`, with an `executor`
    /// or `admin` token, for a runbook version imported with an admin token.
    #[serde(default)]
    pub execute: bool,
}

#[derive(Serialize, ToSchema)]
pub struct StepAnswer {
    pub incident: String,
    pub run: u32,
    pub step: usize,
    /// The script as it runs: each bound value assigned to a shell variable, then the command
    /// referring to it (see `sevwatch_runbook::bind`).
    pub command: String,
    /// Variables the step takes from earlier steps of the run: the executor's shell session
    /// checks they are set before it runs the step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    pub risk: StepRisk,
    pub reason: String,
    /// Present when the server executed the step.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// Start a step: binds variables, checks the confirmation its risk needs, records the start.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/start", tag = "runbooks", request_body = StartStep,
    params(("id" = String, Path), ("run" = u32, Path), ("step" = usize, Path, description = "1-based")),
    responses((status = 200, body = StepAnswer), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn start_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, run, step)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<StartStep>,
) -> Result<Json<StepAnswer>, ApiError> {
    caller.require(Action::Respond)?;
    let (id, run, step) = ids(&id, &run, Some(&step))?;
    let inc = state.store.incident(id).await?;
    let (r, _) = find_step(&inc, run, step)?;
    if req.execute {
        run_on_server::authorize(&state, &caller, r).await?;
    }
    let template = &r.steps[step - 1];
    let mut vars = r.vars.clone();
    vars.extend(req.vars);
    // The run's steps share one shell session: what earlier steps assign is the session's.
    let earlier = sevwatch_runbook::defined_by(r.steps[..step - 1].iter().map(|s| s.command.as_str()));
    let command = sevwatch_runbook::bind_in_run(&template.command, &vars, &earlier)
        .map_err(|e| ApiError::invalid("vars", format!("step {step}: {e}")))?;
    let needs = sevwatch_runbook::session_needs(&template.command, &earlier);
    let continuing = r.state.iter().any(|s| s.attempts > 0 || s.status == StepStatus::Skipped);
    let confirmation = Confirmation { confirmed: req.confirm, typed_incident: req.confirm_destructive };
    let (risk, reason) = (template.risk, template.reason.clone());
    let start = Command::StartStep { run, step, command: command.clone(), confirmation, on_server: req.execute };
    exec(&state, &caller, id, start).await?;
    let mut result = None;
    if req.execute {
        let o = run_on_server::execute(&state, id, run, command.clone(), needs.clone(), continuing).await?;
        let output = o.text();
        let finish = Command::FinishStep {
            run,
            step,
            exit_code: o.exit_code,
            duration_ms: o.duration_ms,
            output: output.clone(),
            truncated: o.truncated,
            cwd: o.cwd.clone(),
            exported: o.exported.clone(),
        };
        let inc = exec(&state, &caller, id, finish).await?;
        close_if_done(&state, &inc, run).await;
        result = Some(serde_json::json!({ "exit_code": o.exit_code, "duration_ms": o.duration_ms, "output": output,
            "truncated": o.truncated, "cwd": o.cwd, "exported": o.exported, "session_ended": o.session_ended }));
    }
    Ok(Json(StepAnswer { incident: id.to_string(), run, step, command, needs, risk, reason, result }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepResult {
    pub exit_code: i32,
    pub duration_ms: i64,
    /// stdout and stderr, at most 1 MiB.
    pub output: String,
    #[serde(default)]
    pub truncated: bool,
    /// The working directory of the run's shell session after the step.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Names (not values) of the variables the run's steps have exported.
    #[serde(default)]
    pub exported: Vec<String>,
}

/// Record a step's result (exit code, duration, output).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/result", tag = "runbooks", request_body = StepResult,
    params(("id" = String, Path), ("run" = u32, Path), ("step" = usize, Path)),
    responses((status = 200, body = RunAnswer), (status = 409, body = crate::Problem)))]
pub async fn step_result(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, run, step)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<StepResult>,
) -> Result<Json<RunAnswer>, ApiError> {
    let (id, run, step) = ids(&id, &run, Some(&step))?;
    let cmd = Command::FinishStep {
        run,
        step,
        exit_code: req.exit_code,
        duration_ms: req.duration_ms,
        output: req.output,
        truncated: req.truncated,
        cwd: req.cwd,
        exported: req.exported,
    };
    let inc = exec(&state, &caller, id, cmd).await?;
    close_if_done(&state, &inc, run).await;
    Ok(Json(RunAnswer { incident: inc.id.to_string(), run: run_of(&inc, run)? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipStep {
    pub reason: Option<String>,
}

/// Skip a step.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/skip", tag = "runbooks", request_body = SkipStep,
    params(("id" = String, Path), ("run" = u32, Path), ("step" = usize, Path)),
    responses((status = 200, body = RunAnswer), (status = 409, body = crate::Problem)))]
pub async fn skip_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, run, step)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<SkipStep>,
) -> Result<Json<RunAnswer>, ApiError> {
    let (id, run, step) = ids(&id, &run, Some(&step))?;
    let inc = exec(&state, &caller, id, Command::SkipStep { run, step, reason: req.reason }).await?;
    close_if_done(&state, &inc, run).await;
    Ok(Json(RunAnswer { incident: inc.id.to_string(), run: run_of(&inc, run)? }))
}

/// Mark a running step interrupted (its executor went away); it can then be retried or skipped.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/interrupt", tag = "runbooks",
    params(("id" = String, Path), ("run" = u32, Path), ("step" = usize, Path)),
    responses((status = 200, body = RunAnswer), (status = 409, body = crate::Problem)))]
pub async fn interrupt_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, run, step)): Path<(String, String, String)>,
) -> Result<Json<RunAnswer>, ApiError> {
    let (id, run, step) = ids(&id, &run, Some(&step))?;
    let inc = exec(&state, &caller, id, Command::InterruptStep { run, step }).await?;
    Ok(Json(RunAnswer { incident: inc.id.to_string(), run: run_of(&inc, run)? }))
}
