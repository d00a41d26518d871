//! One integration-test binary: real centers on 127.0.0.1 over mutual TLS, driven with
//! gongwen-client, on SQLite or PostgreSQL (`GONGWEN_TEST_DATABASE_URL`).

mod agent;
mod agent_api;
mod agent_stats;
mod agent_web;
mod center;
mod center_security;
mod center_stats;
mod directory;
mod directory_network;
mod directory_stats;
mod duties;
mod federation;
mod hostile;
mod hostile_senders;
mod office;
mod office_web;
