//! Everything configured that decides what a write does.

use std::sync::Arc;

use sevwatch_core::alert::AlertConfig;
use sevwatch_core::oncall::OnCallConfig;
use sevwatch_core::Policy;
use sevwatch_notify::{NotifyConfig, Templates};

/// The severity policy, alert handling, on-call and notification rules, fixed at start-up.
pub struct Rules {
    pub policy: Policy,
    pub alerts: AlertConfig,
    pub oncall: OnCallConfig,
    /// What messages events send.
    pub notify: NotifyConfig,
    /// The templates that word them.
    pub templates: Arc<Templates>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            policy: Policy::default(),
            alerts: AlertConfig::default(),
            oncall: OnCallConfig::default(),
            notify: NotifyConfig::default(),
            templates: Arc::new(Templates::defaults()),
        }
    }
}
