//! OpenClaw's own JSON Schema for the pinned version, embedded so a NixOS build (or any
//! render) rejects an invalid openclaw.json without Node. `scripts/refresh-openclaw-schema.sh`
//! regenerates the file from `openclaw config schema`; a test proves they are identical.

use std::sync::OnceLock;

/// The OpenClaw version the embedded schema belongs to.
pub const OPENCLAW_VERSION: &str = "2026.9.6";

/// The schema text exactly as `openclaw config schema` printed it.
pub const SCHEMA_JSON: &str = include_str!("../openclaw-schema/openclaw-2026.9.6.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(SCHEMA_JSON).expect("embedded OpenClaw schema is JSON");
        jsonschema::draft7::new(&schema).expect("embedded OpenClaw schema compiles")
    })
}

/// Validates a config against the schema; the error lists each failing path.
pub fn validate(config: &serde_json::Value) -> Result<(), String> {
    let errors: Vec<String> = validator()
        .iter_errors(config)
        .map(|e| format!("  - at '{}': {}", e.instance_path, e))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
