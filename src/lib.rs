//! pgvision: image similarity search inside PostgreSQL.
use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);
