//! Storage: one SQL text on SQLite or PostgreSQL ([`Db`]), and content-addressed blobs on the
//! filesystem or in the database ([`Blobs`]).

pub mod blob;
pub mod db;
mod error;
mod migrate;
mod private;

pub use blob::{BlobReader, Blobs, Stored, random_hex, sha256_hex};
pub use db::{Db, Row, Tx, Value};
pub use error::StoreError;
pub use private::{private_dir, set_mode};

/// The runtime the store's own tests run on.
#[cfg(test)]
fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a test runtime")
}
