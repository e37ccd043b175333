//! The translations (`locales/*.yml`) are compiled into the binary by `rust_i18n::i18n!`, which
//! does not tell cargo about them: without this, an edited translation would not rebuild the
//! crate and the old text would stay until some Rust file changed.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
