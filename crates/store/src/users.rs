//! People added or edited through the API. `sevwatch.toml` defines the rota (users, schedules,
//! policies); people keep their own contact methods current through the API or the CLI. A
//! stored user replaces the configured one of the same id; deleting it brings the configured
//! one back.

use serde::Serialize;
use sevwatch_core::oncall::{ContactMethod, User};
use sevwatch_core::Timestamp;

use crate::db::{with_pool, with_tx, Tx};
use crate::{Store, StoreError};

/// Where a user's current record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserSource {
    Config,
    Api,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub source: UserSource,
}

fn decode(id: String, name: String, contacts: &str) -> Result<User, StoreError> {
    let contacts: Vec<ContactMethod> =
        serde_json::from_str(contacts).map_err(|e| StoreError::Corrupt(format!("user {id} contacts: {e}")))?;
    Ok(User { id, name, contacts })
}

/// The user as the transaction sees it: the stored record, else the configured one.
pub(crate) async fn user_in_tx(tx: &mut Tx, config: &[User], id: &str) -> Result<Option<User>, sqlx::Error> {
    const SQL: &str = "SELECT name, contacts FROM users WHERE id = $1";
    let row: Option<(String, String)> = with_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    Ok(match row {
        // A row that does not decode reaches nobody rather than failing the whole batch.
        Some((name, contacts)) => decode(id.to_string(), name, &contacts).ok(),
        None => config.iter().find(|u| u.id == id).cloned(),
    })
}

impl Store {
    /// Every user, configured and stored, by id.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        const SQL: &str = "SELECT id, name, contacts FROM users ORDER BY id";
        let rows: Vec<(String, String, String)> = with_pool!(&self.db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
        let mut out: Vec<UserRecord> = Vec::new();
        for (id, name, contacts) in rows {
            out.push(UserRecord { user: decode(id, name, &contacts)?, source: UserSource::Api });
        }
        for u in &self.shared.rules.oncall.users {
            if !out.iter().any(|r| r.user.id == u.id) {
                out.push(UserRecord { user: u.clone(), source: UserSource::Config });
            }
        }
        out.sort_by(|a, b| a.user.id.cmp(&b.user.id));
        Ok(out)
    }

    pub async fn user(&self, id: &str) -> Result<UserRecord, StoreError> {
        self.users()
            .await?
            .into_iter()
            .find(|r| r.user.id == id)
            .ok_or_else(|| StoreError::Missing(format!("no user {id:?}")))
    }

    /// Create or replace a user's record (already validated by the caller).
    pub async fn put_user(&self, user: &User, now: Timestamp) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO users (id, name, contacts, updated_at) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, contacts = excluded.contacts, updated_at = excluded.updated_at";
        let contacts = serde_json::to_string(&user.contacts).expect("contacts serialise");
        with_pool!(&self.db, |p| sqlx::query(SQL)
            .bind(&user.id)
            .bind(&user.name)
            .bind(&contacts)
            .bind(now.as_millisecond())
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Remove a stored record. A user defined only in the configuration cannot be removed here.
    pub async fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM users WHERE id = $1";
        let n = with_pool!(&self.db, |p| sqlx::query(SQL).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(if self.shared.rules.oncall.user(id).is_some() {
                StoreError::Domain(sevwatch_core::DomainError::Conflict(format!(
                    "{id} is defined in the configuration file; remove it there"
                )))
            } else {
                StoreError::Missing(format!("no user {id:?}"))
            });
        }
        Ok(())
    }
}
