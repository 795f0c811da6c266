//! Records the compiler version for the module descriptor (`show modules` lists it).

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "rustc (unknown version)".into());
    println!("cargo:rustc-env=SWITCH_SDK_RUSTC={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
