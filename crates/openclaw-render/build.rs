//! Prepares the embedded OpenClaw schema once, at build time: annotations stripped, ECMAScript
//! patterns in Rust's dialect, plugin `$defs` refs made absolute, minified. A render then only
//! parses the result (about half the bytes of the original).

#[path = "src/schema_prep.rs"]
mod schema_prep;

fn main() {
    let src = "openclaw-schema/openclaw-2026.9.6.schema.json";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=src/schema_prep.rs");
    let text = std::fs::read_to_string(src).expect("read the embedded OpenClaw schema");
    let mut schema: serde_json::Value =
        serde_json::from_str(&text).expect("OpenClaw schema is JSON");
    schema_prep::prepare(&mut schema);
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap())
        .join("openclaw-schema.prepared.json");
    std::fs::write(out, serde_json::to_string(&schema).unwrap()).expect("write prepared schema");
}
