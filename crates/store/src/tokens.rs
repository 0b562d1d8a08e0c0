//! API tokens. Only a SHA-256 of each token is stored; the plain token is shown once, when it is
//! created. Tokens look like `sw_` followed by 48 hex digits (192 random bits).

use serde::Serialize;
use sevwatch_core::{AccessRole, Timestamp};
use sha2::{Digest, Sha256};

use crate::db::with_pool;
use crate::{Store, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: AccessRole,
    pub created_at: Timestamp,
    pub revoked: bool,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("sw_{}", hex::encode(bytes))
}

type TokenRow = (i64, String, String, i64, Option<i64>);

fn decode((id, name, role, created, revoked): TokenRow) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id,
        name,
        role: role.parse().map_err(StoreError::Corrupt)?,
        created_at: Timestamp::from_millisecond(created).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        revoked: revoked.is_some(),
    })
}

impl Store {
    /// Create a token and return it in plain text (the only time it is visible).
    pub async fn create_token(
        &self,
        name: &str,
        role: AccessRole,
        now: Timestamp,
    ) -> Result<(String, TokenInfo), StoreError> {
        const SQL: &str = "INSERT INTO tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id, name, role, created_at, revoked_at";
        let token = new_token();
        let hash = hash_token(&token);
        let row: TokenRow = with_pool!(&self.db, |p| sqlx::query_as(SQL)
            .bind(name)
            .bind(role.as_str())
            .bind(&hash)
            .bind(now.as_millisecond())
            .fetch_one(p)
            .await)?;
        Ok((token, decode(row)?))
    }

    /// The live token with this plain text, if any.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        const SQL: &str =
            "SELECT id, name, role, created_at, revoked_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL";
        let hash = hash_token(token);
        let row: Option<TokenRow> = with_pool!(&self.db, |p| sqlx::query_as(SQL).bind(&hash).fetch_optional(p).await)?;
        row.map(decode).transpose()
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        const SQL: &str = "SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY id";
        let rows: Vec<TokenRow> = with_pool!(&self.db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
        rows.into_iter().map(decode).collect()
    }

    /// Revoke a token by id; false if there was no live token with that id.
    pub async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let n = with_pool!(&self.db, |p| sqlx::query(SQL)
            .bind(now.as_millisecond())
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}
