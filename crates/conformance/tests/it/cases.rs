//! The check of issue 18 item 4: `grep` maps each applicable conformance case to a test.
//! Reads only the repository (the workspace root is two folders above this crate).

use std::path::{Path, PathBuf};

use bascule_conformance::{FAPI_PLAN, parse_cases, scan};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases() -> bascule_conformance::Cases {
    let path = root().join("conformance/cases.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_cases(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_list_holds_every_applicable_checklist_row() {
    let cases = cases();
    let ob = cases
        .applicable
        .keys()
        .filter(|id| id.starts_with("OB-"))
        .count();
    let fapi = cases
        .applicable
        .keys()
        .filter(|id| id.starts_with(FAPI_PLAN))
        .count();
    // OB-CONFORMANCE-CHECKLIST.md: 95 account, 23 domestic payment and 14 CBPII rows (132;
    // OB-301-CBPII-000009 names two of them); FAPI1-ADVANCED-CHECKLIST.md: 66 modules that
    // apply. Change these with the list, never to make the check pass.
    assert_eq!(ob, 131, "applicable Open Banking ids");
    assert_eq!(fapi, 66, "applicable FAPI modules");
    // VRP (14), international payments (8), the two Brazil modules.
    assert_eq!(cases.not_implemented.len(), 24);
}

#[test]
fn every_applicable_case_is_named_by_a_test() {
    let cases = cases();
    let modules: Vec<String> = cases
        .applicable
        .keys()
        .chain(cases.not_implemented.keys())
        .filter(|id| id.starts_with(FAPI_PLAN))
        .cloned()
        .collect();
    let named = scan(&root(), &modules).expect("scanning crates/*/tests and crates/*/src");
    let missing: Vec<String> = cases
        .applicable
        .iter()
        .filter(|(id, _)| !named.ids.contains_key(*id))
        .map(|(id, title)| format!("  {id}  {title}"))
        .collect();
    let unlisted: Vec<String> = named
        .ids
        .iter()
        .filter(|(id, _)| {
            !cases.applicable.contains_key(*id) && !cases.not_implemented.contains_key(*id)
        })
        .map(|(id, files)| format!("  {id}  (named in {files:?})"))
        .collect();
    assert!(
        missing.is_empty() && unlisted.is_empty(),
        "\n{} applicable case(s) no test names (add the id to the doc comment of the test that \
         proves it, or write that test):\n{}\n{} id(s) named by a test but not in \
         conformance/cases.txt (a typo, or a row to list):\n{}\n",
        missing.len(),
        missing.join("\n"),
        unlisted.len(),
        unlisted.join("\n"),
    );
}
