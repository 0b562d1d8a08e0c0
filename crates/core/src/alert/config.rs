//! placeholder
#[derive(Clone, Debug, Default)]
pub struct AlertConfig;
