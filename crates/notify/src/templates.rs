//! Communication templates: the built-in defaults (`templates/*.j2` in this crate, written for
//! Sevwatch) and a user's overrides from one directory, compiled once and rendered with a
//! [`TemplateContext`].
//!
//! The environment is a sandbox: minijinja is built without its filesystem loader, so a
//! template reaches only other registered templates (`{% include "status-update" %}`), never a
//! file. Output is plain text (no HTML escaping). Undefined behaviour is strict: printing,
//! testing or iterating a field that is not in the context is an error naming the file, the
//! line and the field, and no text is produced. Every template is parsed when it is loaded, so
//! a syntax error stops start-up rather than the first message of an incident.
//!
//! A rendered text whose first line is `Subject: ...` has that line (and the blank lines after
//! it) taken out as the subject: emails use it as their subject, chat channels as a heading.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use crate::context::TemplateContext;

/// The built-in templates, by the name callers use.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("incident-declared", include_str!("../templates/incident-declared.j2")),
    ("status-update", include_str!("../templates/status-update.j2")),
    ("resolved", include_str!("../templates/resolved.j2")),
    ("escalation-notice", include_str!("../templates/escalation-notice.j2")),
    ("customer-initial", include_str!("../templates/customer-initial.j2")),
    ("customer-progress", include_str!("../templates/customer-progress.j2")),
    ("customer-resolution", include_str!("../templates/customer-resolution.j2")),
    ("postmortem-reminder", include_str!("../templates/postmortem-reminder.j2")),
    ("update-reminder", include_str!("../templates/update-reminder.j2")),
];

/// File name extensions an override may have; `<dir>/<name>.j2` or `<dir>/<name>.txt`.
pub const EXTENSIONS: &[&str] = &["j2", "txt"];

/// The outcome of rendering one template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub body: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// The template does not parse.
    Syntax,
    /// The template uses a field the context does not have.
    Undefined,
    /// No template by that name.
    Unknown,
    /// The override directory or one of its files could not be read.
    Io,
    /// Anything else that stopped rendering (a filter given the wrong type, ...).
    Render,
}

/// Why a template could not be loaded or rendered, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    /// The file the problem is in: the override's path, or `builtin:<name>.j2`.
    pub file: Option<String>,
    pub line: Option<usize>,
    /// For [`TemplateErrorKind::Undefined`], the expression that was undefined (`impact`,
    /// `extra.bridge`).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        match &self.field {
            Some(field) => write!(f, "undefined field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Compiled templates, ready to render.
pub struct Templates {
    env: Environment<'static>,
    /// Template name -> (file shown in errors, source).
    sources: BTreeMap<String, (String, String)>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: BTreeMap<&str, &str> =
            self.sources.iter().map(|(n, (file, _))| (n.as_str(), file.as_str())).collect();
        f.debug_struct("Templates").field("files", &files).finish()
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Messages are plain text: escaping `<` or `&` would corrupt them.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Block tags on their own lines leave no blank lines behind, so templates can be laid out
    // readably without the output filling with gaps.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env
}

impl Templates {
    /// The built-in templates only.
    pub fn defaults() -> Templates {
        Templates::load(None).expect("the built-in templates parse (checked by the test suite)")
    }

    /// The built-in templates, each replaced by `<dir>/<name>.j2` or `<dir>/<name>.txt` when
    /// that file exists; other files with those extensions add templates of their own name.
    /// Every template is parsed here; the first error is returned.
    pub fn load(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut sources: BTreeMap<String, (String, String)> =
            DEFAULTS.iter().map(|(n, src)| (n.to_string(), (format!("builtin:{n}.j2"), src.to_string()))).collect();
        if let Some(dir) = dir {
            for (name, path) in override_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                    kind: TemplateErrorKind::Io,
                    file: Some(path.display().to_string()),
                    line: None,
                    field: None,
                    message: format!("cannot read: {e}"),
                })?;
                sources.insert(name, (path.display().to_string(), text));
            }
        }
        let mut env = environment();
        for (name, (_, src)) in &sources {
            env.add_template_owned(name.clone(), src.clone()).map_err(|e| convert(&e, &sources))?;
        }
        Ok(Templates { env, sources })
    }

    /// Names of every template available, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.sources.keys().map(String::as_str).collect()
    }

    /// The file a template was loaded from (`builtin:<name>.j2` for a default).
    pub fn file(&self, name: &str) -> Option<&str> {
        self.sources.get(name).map(|(f, _)| f.as_str())
    }

    /// Render `name` with `ctx`: the whole text, or an error and nothing.
    pub fn render(&self, name: &str, ctx: &TemplateContext) -> Result<Rendered, TemplateError> {
        let tmpl = self.env.get_template(name).map_err(|_| TemplateError {
            kind: TemplateErrorKind::Unknown,
            file: None,
            line: None,
            field: None,
            message: format!("no template named {name:?} (known: {})", self.names().join(", ")),
        })?;
        let text = tmpl.render(ctx).map_err(|e| convert(&e, &self.sources))?;
        Ok(split_subject(&text))
    }
}

/// `<name>.j2` / `<name>.txt` files of an override directory, sorted; the same name twice
/// (with both extensions) is refused because which one wins would be a guess.
fn override_files(dir: &Path) -> Result<BTreeMap<String, PathBuf>, TemplateError> {
    let io = |message: String| TemplateError {
        kind: TemplateErrorKind::Io,
        file: Some(dir.display().to_string()),
        line: None,
        field: None,
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| io(format!("cannot read the templates directory: {e}")))?;
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| io(format!("cannot list the templates directory: {e}")))?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !EXTENSIONS.contains(&ext) || !path.is_file() {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else { continue };
        if let Some(other) = found.get(&name) {
            return Err(io(format!(
                "template {name:?} is defined twice ({} and {}); keep one",
                other.display(),
                path.display()
            )));
        }
        found.insert(name, path);
    }
    Ok(found)
}

/// Translate minijinja's error into ours, naming the file rather than the template name and,
/// for undefined values, the expression that was undefined (cut from the source by the span
/// minijinja records, since its message says only "undefined value").
fn convert(e: &minijinja::Error, sources: &BTreeMap<String, (String, String)>) -> TemplateError {
    let source = e.name().and_then(|n| sources.get(n));
    let file = source.map(|(f, _)| f.clone()).or_else(|| e.name().map(String::from));
    let kind = match e.kind() {
        ErrorKind::SyntaxError | ErrorKind::BadEscape => TemplateErrorKind::Syntax,
        ErrorKind::UndefinedError => TemplateErrorKind::Undefined,
        ErrorKind::TemplateNotFound => TemplateErrorKind::Unknown,
        _ => TemplateErrorKind::Render,
    };
    let field = match (kind, source, e.range()) {
        (TemplateErrorKind::Undefined, Some((_, src)), Some(range)) => src.get(range).map(undefined_name),
        _ => None,
    };
    TemplateError {
        kind,
        file,
        line: e.line(),
        field,
        message: e.detail().map(String::from).unwrap_or_else(|| e.kind().to_string()),
    }
}

/// The span of an undefined error may cover a whole expression (`impact | upper`); the field
/// is its first name-like run (`impact`, `extra.bridge`).
fn undefined_name(span: &str) -> String {
    let s = span.trim().trim_start_matches(['{', '%', '-', ' ']);
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(s.len());
    let name = &s[..end];
    if name.is_empty() {
        span.trim().to_string()
    } else {
        name.to_string()
    }
}

/// Take a leading `Subject: ...` line off the text.
fn split_subject(text: &str) -> Rendered {
    if let Some(rest) = text.strip_prefix("Subject:") {
        let (subject, body) = rest.split_once('\n').unwrap_or((rest, ""));
        return Rendered {
            subject: Some(subject.trim().to_string()).filter(|s| !s.is_empty()),
            body: body.trim_start_matches(['\n', '\r']).trim_end().to_string(),
        };
    }
    Rendered { subject: None, body: text.trim_end().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_line_is_split_from_the_body() {
        let r = split_subject("Subject: [P1] INC-1 declared\n\n\nbody line\n\n");
        assert_eq!(r.subject.as_deref(), Some("[P1] INC-1 declared"));
        assert_eq!(r.body, "body line");
        let r = split_subject("no subject here\n");
        assert_eq!(r, Rendered { subject: None, body: "no subject here".into() });
    }

    #[test]
    fn the_field_name_is_cut_from_the_expression() {
        assert_eq!(undefined_name("impact"), "impact");
        assert_eq!(undefined_name("extra.bridge | upper"), "extra.bridge");
        assert_eq!(undefined_name(" reason "), "reason");
    }
}
