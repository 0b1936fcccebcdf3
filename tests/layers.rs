//! The service crate's layers, from the bottom up (see `src/lib.rs` and the
//! README's map of the code): a module may use modules of its own layer or
//! below, never above. Read from the source, so a new import that runs up a
//! layer fails here with the file and the module it named.

use std::path::Path;

/// Each top-level module of `src/` and its layer.
const LAYERS: &[(&str, u8)] = &[
    ("config", 1),
    ("telemetry", 1),
    ("passwords", 1),
    ("allocator", 1),
    ("answer_cache", 1),
    ("workbook_budget", 1),
    ("store", 2),
    ("queue", 3),
    ("sandbox", 3),
    ("mail", 3),
    ("context", 4),
    ("flows", 5),
    ("jobs", 6),
    ("api", 7),
    ("cli", 7),
    ("web", 7),
    ("startup", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line of code names as `crate::NAME`, outside comments.
fn named_modules(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    let mut up = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src/");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs"))
            .expect("a file name");
        if top == "lib" || top == "main" {
            continue;
        }
        let own = layer(top).unwrap_or_else(|| {
            panic!("src/{top} has no layer: add it to LAYERS here and to the README's map")
        });
        checked += 1;
        let text = std::fs::read_to_string(file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            for module in named_modules(line) {
                match layer(module) {
                    Some(l) if l > own => up.push(format!(
                        "src/{}:{}: layer {own} ({top}) uses {module} (layer {l})",
                        rel.display(),
                        n + 1
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} files read");
    assert!(
        up.is_empty(),
        "imports that run up a layer:\n{}",
        up.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_and_ignores_a_comment() {
    assert_eq!(
        named_modules("use crate::jobs::ingest; // crate::startup"),
        ["jobs"]
    );
    assert_eq!(
        named_modules("    crate::api::server::serve(crate::config::x)"),
        ["api", "config"]
    );
}
