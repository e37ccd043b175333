//! Background jobs that run beside the web server, on the same pool and the same services.

pub mod market;
