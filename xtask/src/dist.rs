//! `cargo xtask dist`: the web app, built, optimised and laid out in `dist/`.
//!
//! ```text
//! dist/index.html                   the patient app; no-cache; refers to the hashed assets
//! dist/assets/style-<hash>.css      each asset also as .br and .gz
//! dist/assets/boot-<hash>.js        starts the first screen's GETs, loads the glue and the wasm
//!                                   (no inline script: CSP)
//! dist/assets/qol-app-<hash>.js     wasm-bindgen glue
//! dist/assets/qol-app-<hash>.wasm   the app, after wasm-opt -Oz
//! dist/sw.js                        the service worker (caches the shell for offline use)
//! dist/manifest.webmanifest, icon.svg   what makes the app installable
//! dist/staff.html                   the staff console (served under /staff): the same crate
//! dist/assets/qol-staff-<hash>.*    built with the `staff` feature alone, plus staff-<hash>.css
//! ```
//!
//! Two bundles keep the patient's first load (the phone on a weak connection) free of the staff
//! screens; the staff console loads on the clinic's network. The app's two parts are additive
//! features (the default is `patient`), so each bundle names its own alone
//! (`--no-default-features --features patient|staff`), and `dist` fails if the patient's bundle
//! holds the console.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};

use crate::prerequisites::{WASM_TARGET, ensure_wasm_target, wasm_opt};
use crate::util::{cargo, require_all, root, run, target_dir, warn_skipped};

const PROFILE: &str = "wasm-release";

/// The bundles are built with the standard library rebuilt for size (issue 17: the patient's
/// first load within 250 KB brotli): `optimize_for_size` picks std's smaller algorithms, and a
/// panic stops the app at once (`immediate-abort`) instead of formatting a message nobody on a
/// phone reads, which drops std's panic formatting. Together 19 KB brotli of the phone's first
/// load (measured on 2026-12-02: 311.6 → 292.6 KB). These are unstable flags of the pinned
/// toolchain (rust-toolchain.toml), enabled for this one build by `RUSTC_BOOTSTRAP`; the cost is
/// that a panic in a shipped bundle leaves no message in the browser's console (a debug build,
/// `cargo build -p qol-app --target wasm32-unknown-unknown`, still prints one).
const SIZE_BUILD_STD: [&str; 2] = ["-Zbuild-std=std,panic_abort", "-Zbuild-std-features=optimize_for_size"];

/// The wasm32 rustflags of `.cargo/config.toml` (component type erasure), plus the immediate
/// abort, and no file names or lines kept for panics (`location-detail=none`; nothing prints them
/// after an immediate abort). An environment variable replaces the file's list, so it repeats it.
const SIZE_RUSTFLAGS: &str =
    "--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none";

/// The most a phone downloads on its first visit (every asset of the patient's app, brotli):
/// issue 20's target for a patient on a weak connection (issue 17 set 250 KB). An optimised
/// `dist` over it fails, so the budget is kept by every build, not by a benchmark read later.
pub const FIRST_LOAD_BUDGET: u64 = 200_000;

/// A string only the staff console has (its name, `S::Console` in `app/src/staff/text.rs`): found
/// in the staff bundle, never in the patient's. If it leaves the console's text, pick another.
const CONSOLE_MARKER: &str = "Staff console";

/// What `dist` produced.
#[derive(Debug)]
pub struct Dist {
    pub dir: PathBuf,
    pub optimised: bool,
    /// The patient app: what a phone downloads on its first visit.
    pub assets: Vec<AssetSize>,
    /// The staff console (besides the shared style sheet).
    pub staff: Vec<AssetSize>,
}

#[derive(Debug, Clone)]
pub struct AssetSize {
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

impl Dist {
    /// What a first visit downloads (every asset; index.html included), brotli-compressed.
    pub fn first_load_brotli(&self) -> u64 {
        self.assets.iter().map(|asset| asset.brotli).sum()
    }

    pub fn first_load_gzip(&self) -> u64 {
        self.assets.iter().map(|asset| asset.gzip).sum()
    }
}

/// One wasm bundle, the app with exactly the `features` named: built, bound and optimised.
/// Returns the glue and the wasm, and whether wasm-opt ran.
fn bundle(features: &[&str], out: &str) -> anyhow::Result<(PathBuf, PathBuf, bool)> {
    run(cargo()
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", SIZE_RUSTFLAGS)
        .args(["build", "--package", "qol-app", "--lib", "--target", WASM_TARGET, "--profile", PROFILE])
        .args(SIZE_BUILD_STD)
        .args(["--no-default-features", "--features", &features.join(",")]))?;
    let target_dir = target_dir();
    let wasm = target_dir.join(WASM_TARGET).join(PROFILE).join("qol_app.wasm");

    let bindgen_dir = target_dir.join(out);
    let _ = std::fs::remove_dir_all(&bindgen_dir);
    eprintln!("xtask: generating JS glue with wasm-bindgen-cli-support {}", wasm_bindgen_version());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .typescript(false)
        // The library's default (true) breaks `init()` unless the wasm path is always passed;
        // boot.js does pass it, and keeping the default path makes the glue usable alone too.
        .omit_default_module_path(false)
        .generate(&bindgen_dir)
        .context("wasm-bindgen failed")?;
    if bindgen_dir.join("snippets").exists() {
        bail!("the wasm-bindgen output has JS snippets; dist does not lay them out yet");
    }
    let glue = bindgen_dir.join("qol_app.js");
    let wasm_out = bindgen_dir.join("qol_app_bg.wasm");
    let (trimmed, unused_exports) = drop_unused_classes(&std::fs::read_to_string(&glue)?);
    std::fs::write(&glue, trimmed)?;

    match wasm_opt()? {
        Some(wasm_opt) => {
            let output = bindgen_dir.join("qol_app_bg.opt.wasm");
            let mut command = Command::new(&wasm_opt);
            command.arg(&wasm_out);
            if !unused_exports.is_empty() {
                // What only the dropped classes called goes with them (`drop_unused_classes`).
                command
                    .arg("--remove-exports")
                    .arg(format!("--pass-arg=remove-exports@{}", unused_exports.join(",")));
            }
            run(command
                // The first 1 KB of memory is never used (the stack comes first and grows down
                // from 1 MB, and no pointer is near 0), which lets wasm-opt fold more address
                // arithmetic into loads and stores; functions that differ only in constants are
                // merged. 1.4 KB brotli of the phone's first load (2026-12-03).
                .args(["--low-memory-unused", "--merge-similar-functions"])
                // `--converge` runs -Oz's passes again until the module stops shrinking: 2.3 KB
                // brotli of the phone's first load (2026-12-03).
                .args(["-Oz", "--converge", "--strip-debug", "--strip-producers"])
                // The features rustc enables by default for wasm32-unknown-unknown.
                .args([
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                ])
                .arg("-o")
                .arg(&output))?;
            Ok((glue, output, true))
        }
        None if require_all() => bail!(
            "no wasm-opt 116 or later found and QOL_REQUIRE_ALL=1; install one with `npm install --prefix .tools binaryen@132` or set QOL_WASM_OPT"
        ),
        None => {
            warn_skipped(
                "wasm-opt: dist/ holds an unoptimised build",
                "install Node.js and npm (xtask then installs binaryen from npm), or set QOL_WASM_OPT",
            );
            Ok((glue, wasm_out, false))
        }
    }
}

/// The glue without the classes it exports that nothing uses, and the wasm exports that only
/// those classes called (for wasm-opt to remove, with the code only they reach).
///
/// Leptos brings in wasm-streams (through server_fn's `browser` feature, which leptos always
/// enables), whose `#[wasm_bindgen]` types are exported from every bundle although the app
/// never makes a stream: 2 KB brotli of the phone's first load (2026-12-03). The boot script
/// imports only the glue's `init`, so a class is dropped when, once removed, its name appears
/// nowhere else in the glue; a class the glue itself uses stays.
fn drop_unused_classes(glue: &str) -> (String, Vec<String>) {
    let names: Vec<&str> = glue
        .match_indices("export class ")
        .filter_map(|(at, marker)| glue[at + marker.len()..].split_once(' ').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let mut glue = glue.to_owned();
    let mut dropped = String::new();
    for name in names {
        let mut remaining = glue.clone();
        let mut removed = String::new();
        // The class itself, then the lines beside it that name it: its `Symbol.dispose` alias
        // and its finalization registry.
        let pieces = [
            (format!("export class {name} {{"), "\n}\n"),
            (format!("if (Symbol.dispose) {name}.prototype"), ";\n"),
            (format!("const {name}Finalization = "), ";\n"),
        ];
        for (start, end) in &pieces {
            let Some(from) = remaining.find(start.as_str()) else { continue };
            let Some(length) = remaining[from..].find(end).map(|at| at + end.len()) else { continue };
            removed.push_str(&remaining[from..from + length]);
            remaining.replace_range(from..from + length, "");
        }
        if !remaining.contains(name) {
            glue = remaining;
            dropped.push_str(&removed);
        }
    }
    let mut exports: Vec<String> = dropped
        .match_indices("wasm.")
        .map(|(at, marker)| {
            let rest = &dropped[at + marker.len()..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            rest[..end].to_owned()
        })
        .filter(|export| !export.is_empty() && !glue.contains(&format!("wasm.{export}")))
        .collect();
    exports.sort();
    exports.dedup();
    (glue, exports)
}

/// The script that loads a bundle (kept out of the HTML for the CSP).
///
/// It starts the GETs the app's first screen waits on (`early`: who is signed in) at once, while
/// the wasm downloads, instead of one round trip after the app has started: the app takes each
/// answer once (`globalThis.qolEarly`, app/src/api.rs `early`). Nothing of a session is asked
/// while a sign-out made offline waits to reach the server (`qol.sign_out_pending`, as the app's
/// own requests). The glue is imported dynamically so these start before it has arrived, and the
/// service worker is registered once the app has started, so its install (which fetches the
/// shell) does not compete with the first load.
fn boot_script(glue_name: &str, wasm_name: &str, early: &[&str], service_worker: bool) -> String {
    let mut boot =
        String::from("// Generated by cargo xtask dist: loads the app (kept out of the page for the CSP).\n");
    if !early.is_empty() {
        let fetches: Vec<String> = early
            .iter()
            .map(|path| format!("{path:?}: fetch({path:?}, {{ credentials: \"same-origin\" }})"))
            .collect();
        boot.push_str(&format!(
            "// What the first screen waits on, asked while the app downloads; the app takes each answer once.\n\
             try {{\n  if (localStorage.getItem(\"qol.sign_out_pending\") !== \"true\") {{\n    \
             globalThis.qolEarly = {{ {} }};\n    \
             for (const answer of Object.values(globalThis.qolEarly)) answer.catch(() => {{}});\n  }}\n\
             }} catch (_) {{}}\n",
            fetches.join(", ")
        ));
    }
    boot.push_str(&format!(
        "const started = import(\"./{glue_name}\")\n  \
         .then(({{ default: init }}) => init({{ module_or_path: new URL(\"./{wasm_name}\", import.meta.url) }}));\n"
    ));
    if service_worker {
        boot.push_str(
            "// The service worker lets the patient app open offline; registered once the app runs.\n\
             started.then(() => {\n  \
             if (\"serviceWorker\" in navigator) navigator.serviceWorker.register(\"/sw.js\").catch(() => {});\n\
             });\n",
        );
    }
    boot
}

/// What each bundle's first screen asks the server before anything else (app/src/lib.rs, `Frame`:
/// who is signed in; the patient's app also the study's public details, app/src/patient/lock.rs).
const PATIENT_EARLY: [&str; 2] = ["/api/v1/auth/me", "/api/v1/study"];
const STAFF_EARLY: [&str; 1] = ["/api/v1/auth/me"];

/// A bundle's hashed files in `dist/assets/`: the glue, the wasm, and the boot script that
/// loads them.
struct LaidOut {
    glue: String,
    wasm: String,
    boot: String,
}

impl LaidOut {
    /// The HTML `template` with this bundle's files (and the shared `style`) filled in.
    fn page(&self, template: &str, style: &str) -> String {
        template
            .replace("{{style}}", &format!("/assets/{style}"))
            .replace("{{boot}}", &format!("/assets/{}", self.boot))
            // Fetched at once instead of one round trip after another (boot → glue → wasm).
            .replace("{{glue}}", &format!("/assets/{}", self.glue))
            .replace("{{wasm}}", &format!("/assets/{}", self.wasm))
    }
}

fn lay_out(
    assets_dir: &Path,
    stem: &str,
    boot_stem: &str,
    (glue, wasm): (&Path, &Path),
    early: &[&str],
    service_worker: bool,
) -> anyhow::Result<LaidOut> {
    let wasm = write_hashed(assets_dir, stem, "wasm", &std::fs::read(wasm)?)?;
    let glue = write_hashed(assets_dir, stem, "js", &std::fs::read(glue)?)?;
    let boot = write_hashed(
        assets_dir,
        boot_stem,
        "js",
        boot_script(&glue, &wasm, early, service_worker).as_bytes(),
    )?;
    Ok(LaidOut { glue, wasm, boot })
}

pub fn dist() -> anyhow::Result<Dist> {
    ensure_wasm_target()?;
    let (glue, wasm_out, optimised) = bundle(&["patient"], "xtask-bindgen")?;
    let (staff_glue, staff_wasm, _) = bundle(&["staff"], "xtask-bindgen-staff")?;
    ensure!(
        holds(&staff_wasm, CONSOLE_MARKER)?,
        "the staff bundle lacks {CONSOLE_MARKER:?}: pick another of the console's own strings for CONSOLE_MARKER"
    );
    ensure!(
        !holds(&wasm_out, CONSOLE_MARKER)?,
        "the patient's bundle holds the staff console ({CONSOLE_MARKER:?}); it must be built with the `patient` feature alone"
    );

    let dist_dir = root().join("dist");
    let assets_dir = dist_dir.join("assets");
    if dist_dir.exists() {
        std::fs::remove_dir_all(&dist_dir)
            .with_context(|| format!("could not clear {}", dist_dir.display()))?;
    }
    std::fs::create_dir_all(&assets_dir)?;

    let app = root().join("app");
    let style = write_hashed(&assets_dir, "style", "css", &std::fs::read(app.join("style.css"))?)?;
    let patient = lay_out(&assets_dir, "qol-app", "boot", (&glue, &wasm_out), &PATIENT_EARLY, true)?;
    let index = patient.page(&std::fs::read_to_string(app.join("index.html"))?, &style);
    std::fs::write(dist_dir.join("index.html"), &index)?;
    std::fs::copy(app.join("manifest.webmanifest"), dist_dir.join("manifest.webmanifest"))?;
    std::fs::copy(app.join("icon.svg"), dist_dir.join("icon.svg"))?;
    // The service worker caches the shell: its list names this build's files, and its cache
    // name changes with them, so a new build replaces the old cache.
    let shell: Vec<String> = ["/".to_owned(), "/manifest.webmanifest".to_owned(), "/icon.svg".to_owned()]
        .into_iter()
        .chain(
            [&style, &patient.boot, &patient.glue, &patient.wasm]
                .iter()
                .map(|name| format!("/assets/{name}")),
        )
        .collect();
    let version: String =
        Sha256::digest(shell.join("\n").as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect();
    let worker = std::fs::read_to_string(app.join("sw.js"))?
        .replace("{{version}}", &version)
        .replace("{{shell}}", &format!("{shell:?}"));
    std::fs::write(dist_dir.join("sw.js"), worker)?;

    // The staff console: the shared style sheet plus its own, its own bundle, no service worker.
    let staff_style = write_hashed(&assets_dir, "staff", "css", &std::fs::read(app.join("staff.css"))?)?;
    let console =
        lay_out(&assets_dir, "qol-staff", "staff-boot", (&staff_glue, &staff_wasm), &STAFF_EARLY, false)?;
    let staff_index = console
        .page(&std::fs::read_to_string(app.join("staff.html"))?, &style)
        .replace("{{staff_style}}", &format!("/assets/{staff_style}"));
    std::fs::write(dist_dir.join("staff.html"), &staff_index)?;

    let sizes = |files: Vec<(PathBuf, String)>| -> anyhow::Result<Vec<AssetSize>> {
        files.into_iter().map(|(path, name)| precompress(&path, name)).collect()
    };
    let in_assets = |name: &String| (assets_dir.join(name), format!("assets/{name}"));
    let staff = sizes(vec![
        (dist_dir.join("staff.html"), "staff.html".to_owned()),
        in_assets(&staff_style),
        in_assets(&console.boot),
        in_assets(&console.glue),
        in_assets(&console.wasm),
    ])?;
    let assets = sizes(vec![
        (dist_dir.join("index.html"), "index.html".to_owned()),
        in_assets(&style),
        in_assets(&patient.boot),
        in_assets(&patient.glue),
        in_assets(&patient.wasm),
        (dist_dir.join("sw.js"), "sw.js".to_owned()),
    ])?;
    let dist = Dist { dir: dist_dir, optimised, assets, staff };
    print_sizes(&dist);
    ensure!(
        !dist.optimised || dist.first_load_brotli() <= FIRST_LOAD_BUDGET,
        "the patient's first load is {}, over its budget of {} brotli (FIRST_LOAD_BUDGET): \
         make room before adding to the phone's bundle (docs/patient-app.md, \"Size\")",
        kb(dist.first_load_brotli()),
        kb(FIRST_LOAD_BUDGET)
    );
    Ok(dist)
}

/// Whether the file at `path` holds `text` (a wasm's string literals are UTF-8 in its data).
fn holds(path: &Path, text: &str) -> anyhow::Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    Ok(bytes.windows(text.len()).any(|window| window == text.as_bytes()))
}

fn wasm_bindgen_version() -> &'static str {
    // Both crates are pinned to the same exact version in the workspace manifest.
    "0.2.130"
}

fn write_hashed(dir: &Path, stem: &str, extension: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let digest = Sha256::digest(bytes);
    let hash: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    let name = format!("{stem}-{hash}.{extension}");
    std::fs::write(dir.join(&name), bytes)?;
    Ok(name)
}

/// Writes `.br` and `.gz` beside `path` (the server sends them to browsers that accept them) and
/// returns the three sizes.
fn precompress(path: &Path, name: String) -> anyhow::Result<AssetSize> {
    let bytes = std::fs::read(path)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&bytes)?;
    let gzip = gzip.finish()?;
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer.write_all(&bytes)?;
    }
    let with_suffix = |suffix: &str| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        PathBuf::from(file)
    };
    std::fs::write(with_suffix(".gz"), &gzip)?;
    std::fs::write(with_suffix(".br"), &brotli)?;
    Ok(AssetSize { name, raw: bytes.len() as u64, gzip: gzip.len() as u64, brotli: brotli.len() as u64 })
}

pub fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn print_sizes(dist: &Dist) {
    let row = |name: &str, raw: u64, gzip: u64, brotli: u64| {
        println!("{name:<40} {:>10} {:>10} {:>10}", kb(raw), kb(gzip), kb(brotli));
    };
    let group = |assets: &[AssetSize], total: &str| {
        for asset in assets {
            row(&asset.name, asset.raw, asset.gzip, asset.brotli);
        }
        let sum = |field: fn(&AssetSize) -> u64| assets.iter().map(field).sum();
        row(total, sum(|a| a.raw), sum(|a| a.gzip), sum(|a| a.brotli));
    };
    println!();
    println!("{:<40} {:>10} {:>10} {:>10}", "dist/", "raw", "gzip", "brotli");
    group(&dist.assets, "first load (all of the above)");
    println!("{:<40} {:>32}", "first load budget (brotli)", kb(FIRST_LOAD_BUDGET));
    group(&dist.staff, "staff console (besides the style sheet)");
    println!(
        "wasm-opt: {}",
        if dist.optimised {
            "applied (-Oz)"
        } else {
            "NOT applied: this build is larger than a release should be"
        }
    );
    println!();
}
