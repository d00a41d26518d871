//! (to be written)

use axum::Router;

use super::Web;

pub fn routes() -> Router<Web> {
    Router::new()
}

/// Routes that take uploads (read only once the session is known).
pub fn upload_routes() -> Router<Web> {
    Router::new()
}
