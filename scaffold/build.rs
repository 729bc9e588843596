//! `include_dir!` tracks the files it embedded, not files added later: a new
//! template file, SDK source or WIT file must rebuild this crate too.

fn main() {
    for dir in ["../templates", "../sdk", "../wit"] {
        println!("cargo::rerun-if-changed={dir}");
    }
    println!("cargo::rerun-if-changed=../Cargo.toml");
    println!("cargo::rerun-if-changed=../Cargo.lock");
}
