//! `wbx doctor`: is this machine, and this project, ready to build and run
//! guests? Each check says what it found and, when it fails, how to fix it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::guest_build::GUEST_TARGET;
use crate::model::Models;
use crate::project::{MANIFEST_FILE, Manifest, Project, STATE_DIR, StateLayout, modules};

/// The oldest Rust that builds wbx projects.
pub const MIN_RUST: (u64, u64) = (1, 95);

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: &str, detail: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The project root, when run inside a project.
    pub project: Option<PathBuf>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Runs every check that applies at `cwd`, a project's against the kinds
/// and tables of `models`.
pub fn run(cwd: &Path, models: &Models) -> Report {
    let mut checks = vec![check_cargo(), check_rustc(), check_target()];
    let project = Project::find_root(cwd);
    if let Some(root) = &project {
        checks.extend(check_project(root, models));
    }
    Report { project, checks }
}

fn version_of(program: &str) -> Result<String, String> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} --version` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

const INSTALL_RUST: &str = "install Rust with rustup (https://rustup.rs), or run wbx's install.sh";

fn check_cargo() -> Check {
    match version_of("cargo") {
        Ok(version) => Check::pass("cargo", version),
        Err(e) => Check::fail("cargo", e, INSTALL_RUST),
    }
}

fn check_rustc() -> Check {
    let version = match version_of("rustc") {
        Ok(version) => version,
        Err(e) => return Check::fail("rustc", e, INSTALL_RUST),
    };
    match parse_version(&version) {
        Some(found) if found >= MIN_RUST => Check::pass("rustc", version),
        Some(_) => Check::fail(
            "rustc",
            format!("{version} is older than {}.{}", MIN_RUST.0, MIN_RUST.1),
            "rustup update stable",
        ),
        None => Check::fail(
            "rustc",
            format!("cannot read a version from '{version}'"),
            INSTALL_RUST,
        ),
    }
}

/// `rustc 1.95.0 (…)` → `(1, 95)`.
fn parse_version(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.split_whitespace().nth(1)?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn check_target() -> Check {
    let name = "wasm32-wasip2 target";
    let fix = format!("rustup target add {GUEST_TARGET}");
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else {
        return Check::fail(name, "cannot ask rustc for its sysroot", fix);
    };
    let lib = sysroot.join("lib/rustlib").join(GUEST_TARGET).join("lib");
    if lib.is_dir() {
        Check::pass(name, "installed")
    } else {
        Check::fail(name, format!("not installed (no {})", lib.display()), fix)
    }
}

fn check_project(root: &Path, models: &Models) -> Vec<Check> {
    let mut checks = Vec::new();
    let manifest_path = root.join(MANIFEST_FILE);
    let manifest = Manifest::load(&manifest_path, &models.sections());
    checks.push(match &manifest {
        Ok(_) => Check::pass(MANIFEST_FILE, manifest_path.display().to_string()),
        Err(e) => Check::fail(
            MANIFEST_FILE,
            e.to_string(),
            "correct the key or value at that line (see docs/project.md)",
        ),
    });
    let kinds = models.catalog();
    let mut discovery = match modules::discover(root, &kinds) {
        Ok(discovery) => discovery,
        Err(e) => {
            checks.push(Check::fail(
                "guest crates",
                format!("{e:#}"),
                "make the project root a Cargo workspace that `cargo metadata` can read",
            ));
            return checks;
        }
    };
    let mut manifest_problems = Vec::new();
    if let Ok(manifest) = &manifest {
        match modules::prebuilt(manifest, root, &kinds, &discovery.modules) {
            Ok(prebuilt) => {
                for module in &prebuilt {
                    let path = module.artifact_path(&discovery.target_dir, false);
                    checks.push(if path.is_file() {
                        Check::pass("prebuilt module", format!("{} ({})", module.name, path.display()))
                    } else {
                        Check::fail(
                            "prebuilt module",
                            format!("{}: no component at {}", module.name, path.display()),
                            "build the component there, or correct `component` in its [modules.NAME] table",
                        )
                    });
                }
                discovery.modules.extend(prebuilt);
            }
            Err(located) => manifest_problems.push(located.to_string()),
        }
        match models.check(manifest, &discovery.modules) {
            Ok(problems) => manifest_problems.extend(problems),
            Err(located) => manifest_problems.push(located.to_string()),
        }
    }
    if let Ok(manifest) = &manifest {
        checks.extend(models.doctor(manifest, &StateLayout::new(root.join(STATE_DIR))));
    }
    for problem in discovery.problems.iter().chain(&manifest_problems) {
        checks.push(Check::fail(
            "guest crate",
            problem.clone(),
            "fix [package.metadata.wbx] or [lib] in that Cargo.toml as the message says",
        ));
    }
    if discovery.modules.is_empty() {
        checks.push(Check::fail(
            "guest crates",
            "no workspace member declares [package.metadata.wbx], and wbx.toml declares no prebuilt module",
            "add [package.metadata.wbx] kind = \"command\" (or another kind) to a guest crate",
        ));
    } else {
        let list: Vec<_> = discovery
            .modules
            .iter()
            .map(|m| format!("{} ({})", m.name, m.kind))
            .collect();
        checks.push(Check::pass("guest crates", list.join(", ")));
    }
    for module in discovery
        .modules
        .iter()
        .filter(|m| kinds.get(m.kind).is_none_or(|spec| spec.world.is_none()))
    {
        checks.push(Check::fail(
            "guest crate",
            format!(
                "{}: this engine does not run {} modules yet",
                module.name, module.kind
            ),
            format!("declare one of the kinds it runs: {}", kinds.running()),
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn reads_rustc_versions() {
        assert_eq!(
            parse_version("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some((1, 95))
        );
        assert_eq!(parse_version("rustc 1.100.2-nightly"), Some((1, 100)));
        assert_eq!(parse_version("rustc"), None);
    }
}
