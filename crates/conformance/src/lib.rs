//! The conformance cases Bascule carries as tests (`conformance/cases.txt`: Open Banking suite
//! ids and FAPI 1.0 Advanced modules, applicable or listed as not implemented) and the names
//! its tests give them. A test-only crate: `tests/it` holds the check that every applicable
//! case is named by a test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The FAPI 1.0 Advanced plan's prefix; alone it is the plan root module.
pub const FAPI_PLAN: &str = "fapi1-advanced-final";

/// The two sections of `conformance/cases.txt`.
#[derive(Debug, Default)]
pub struct Cases {
    /// Applicable ids and their titles.
    pub applicable: BTreeMap<String, String>,
    /// Ids listed as not implemented, and why.
    pub not_implemented: BTreeMap<String, String>,
}

/// A line of `cases.txt` that is not what the format allows.
#[derive(Debug, PartialEq, Eq)]
pub struct CasesError(pub String);

impl std::fmt::Display for CasesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CasesError {}

/// Whether `id` is a case id: `OB-301-ACC-100000` (digits, capitals, digits) or a FAPI module
/// (`fapi1-advanced-final` and an optional `-name`).
pub fn is_case_id(id: &str) -> bool {
    if let Some(rest) = id.strip_prefix("OB-") {
        let parts: Vec<&str> = rest.split('-').collect();
        return parts.len() == 3
            && parts[0].len() == 3
            && parts[0].chars().all(|c| c.is_ascii_digit())
            && !parts[1].is_empty()
            && parts[1].chars().all(|c| c.is_ascii_uppercase())
            && !parts[2].is_empty()
            && parts[2].chars().all(|c| c.is_ascii_digit());
    }
    id == FAPI_PLAN
        || id.strip_prefix(FAPI_PLAN).is_some_and(|rest| {
            rest.len() > 1
                && rest.starts_with('-')
                && rest[1..].chars().all(is_module_char)
                && !rest.ends_with(['-', '_'])
        })
}

fn is_module_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Parses `cases.txt`: `#` comments, blank lines, the `[applicable]` and `[not implemented]`
/// section headers, and in a section `id  title` lines; each id once in the whole file.
pub fn parse_cases(text: &str) -> Result<Cases, CasesError> {
    let mut cases = Cases::default();
    let mut section: Option<bool> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = n + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line {
            "[applicable]" => section = Some(true),
            "[not implemented]" => section = Some(false),
            _ => {
                let applicable = section
                    .ok_or_else(|| CasesError(format!("line {at}: an id before any section")))?;
                let (id, title) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let title = title.trim();
                if !is_case_id(id) {
                    return Err(CasesError(format!("line {at}: {id:?} is not a case id")));
                }
                if title.is_empty() {
                    return Err(CasesError(format!("line {at}: {id} has no title")));
                }
                if cases.applicable.contains_key(id) || cases.not_implemented.contains_key(id) {
                    return Err(CasesError(format!("line {at}: {id} is listed twice")));
                }
                let into = if applicable {
                    &mut cases.applicable
                } else {
                    &mut cases.not_implemented
                };
                into.insert(id.to_owned(), title.to_owned());
            }
        }
    }
    Ok(cases)
}

/// The test code of one source file: all of a file under `tests/`, and what follows the first
/// `#[cfg(test)]` of a file under `src/` (the rest is the product, whose comments prove
/// nothing).
pub fn test_code(text: &str, under_src: bool) -> &str {
    if !under_src {
        return text;
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" {
            return &text[offset..];
        }
        offset += line.len();
    }
    ""
}

/// The case ids written out in `code`: `OB-...` ids and full FAPI module names.
pub fn written_ids(code: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for start in ["OB-", FAPI_PLAN] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let begin = from + found;
            let preceded_by_word = code[..begin]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let token: String = code[begin..]
                .chars()
                .take_while(|c| is_module_char(*c))
                .collect();
            from = begin + token.len().max(1);
            let token = token.trim_end_matches(['-', '_']);
            if !preceded_by_word && is_case_id(token) {
                ids.insert(token.to_owned());
            }
        }
    }
    ids
}

/// The names of the functions defined in `code` (`fn name(`, `fn name<`).
pub fn function_names(code: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("fn ") {
        let before = &rest[..at];
        let after = &rest[at + 3..];
        let starts_word = !before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if starts_word && name_len > 0 {
            names.push(&after[..name_len]);
        }
        rest = &after[name_len..];
    }
    names
}

/// A FAPI module as a Rust function name: `fapi1-advanced-final-par-attempt-reuse-request_uri`
/// → `par_attempt_reuse_request_uri`; the plan root → `fapi1_advanced_final`.
pub fn module_function_name(module: &str) -> String {
    let name = match module.strip_prefix(FAPI_PLAN) {
        Some("") | None => module,
        Some(rest) => rest.trim_start_matches('-'),
    };
    name.to_ascii_lowercase().replace('-', "_")
}

/// The FAPI module (of `modules`) a test function is named after: the longest whose function
/// name is the test's name or begins it followed by `_`, so that each test counts for one
/// module (`par_authorization_request_containing_request_uri_form_param_is_refused` is the
/// `...-form-param` module's, not the shorter `...-request_uri`'s).
pub fn module_named_by<'m>(function: &str, modules: &'m [(String, String)]) -> Option<&'m str> {
    modules
        .iter()
        .filter(|(_, snake)| {
            function == snake
                || function
                    .strip_prefix(snake.as_str())
                    .is_some_and(|rest| rest.starts_with('_'))
        })
        .max_by_key(|(_, snake)| snake.len())
        .map(|(module, _)| module.as_str())
}

/// Every `*.rs` file under `dir`, recursively, in a stable order.
pub fn rust_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// What the workspace's tests name: each case id, with the files that name it.
#[derive(Debug, Default)]
pub struct Named {
    pub ids: BTreeMap<String, BTreeSet<PathBuf>>,
}

/// Scans `crates/*/tests/**/*.rs` and the `#[cfg(test)]` part of `crates/*/src/**/*.rs` under
/// `root` (this crate left out: it lists ids, it proves none) for the ids they write out and
/// the FAPI modules (of `fapi_modules`) their functions are named after.
pub fn scan(root: &Path, fapi_modules: &[String]) -> std::io::Result<Named> {
    let snakes: Vec<(String, String)> = fapi_modules
        .iter()
        .map(|m| (m.clone(), module_function_name(m)))
        .collect();
    let mut named = Named::default();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    crates.sort();
    for krate in crates {
        if krate.file_name().is_some_and(|n| n == "conformance") {
            continue;
        }
        for (sub, under_src) in [("tests", false), ("src", true)] {
            for file in rust_files(&krate.join(sub))? {
                let text = std::fs::read_to_string(&file)?;
                let code = test_code(&text, under_src);
                let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
                let mut found = written_ids(code);
                for function in function_names(code) {
                    if let Some(module) = module_named_by(function, &snakes) {
                        found.insert(module.to_owned());
                    }
                }
                for id in found {
                    named.ids.entry(id).or_default().insert(relative.clone());
                }
            }
        }
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn ids_are_recognised_and_bounded() {
        let code = "/// OB-301-ACC-100000: minimal\n/// OB-301-DOP-1015002.\n// xOB-301-ACC-1 \
                    fapi1-advanced-final-refresh-token, the root fapi1-advanced-final; \
                    fapi1-advanced-final-par-attempt-reuse-request_uri-";
        let ids: Vec<String> = written_ids(code).into_iter().collect();
        assert_eq!(
            ids,
            [
                "OB-301-ACC-100000",
                "OB-301-DOP-1015002",
                "fapi1-advanced-final",
                "fapi1-advanced-final-par-attempt-reuse-request_uri",
                "fapi1-advanced-final-refresh-token",
            ]
        );
        assert!(!is_case_id("OB-301-acc-100000"));
        assert!(!is_case_id("OB-3011-ACC-1"));
        assert!(!is_case_id("fapi1-advanced-finalx"));
    }

    #[test]
    fn only_the_test_part_of_a_source_file_counts() {
        let src =
            "//! OB-301-ACC-100000 in the product\nfn live() {}\n#[cfg(test)]\nmod tests {}\n";
        assert_eq!(test_code(src, true), "#[cfg(test)]\nmod tests {}\n");
        assert_eq!(test_code("fn live() {}\n", true), "");
        assert_eq!(test_code(src, false), src);
    }

    #[test]
    fn a_test_function_names_the_longest_module_it_begins_with() {
        let modules: Vec<(String, String)> = [
            "fapi1-advanced-final",
            "fapi1-advanced-final-par-authorization-request-containing-request_uri",
            "fapi1-advanced-final-par-authorization-request-containing-request_uri-form-param",
            "fapi1-advanced-final-ensure-signed-request-object-with-RS256-fails",
        ]
        .iter()
        .map(|m| (m.to_string(), module_function_name(m)))
        .collect();
        let by = |f: &str| module_named_by(f, &modules);
        assert_eq!(
            by("par_authorization_request_containing_request_uri_form_param_is_refused"),
            Some(
                "fapi1-advanced-final-par-authorization-request-containing-request_uri-form-param"
            )
        );
        assert_eq!(
            by("par_authorization_request_containing_request_uri_in_the_request_object"),
            Some("fapi1-advanced-final-par-authorization-request-containing-request_uri")
        );
        assert_eq!(
            by("ensure_signed_request_object_with_rs256_fails"),
            Some("fapi1-advanced-final-ensure-signed-request-object-with-RS256-fails")
        );
        assert_eq!(
            by("fapi1_advanced_final_happy_path_with_two_clients"),
            Some("fapi1-advanced-final")
        );
        assert_eq!(by("ensure_signed_request_object_with_rs256_failsafe"), None);
        assert_eq!(
            function_names("async fn a_b() {}\npub fn c<T>() {}\nlet f = |x| x; // fn\n"),
            ["a_b", "c"]
        );
    }

    #[test]
    fn the_cases_file_format_is_enforced() {
        let ok = parse_cases(
            "# c\n[applicable]\nOB-301-ACC-100000  Basic account\n\n[not implemented]\nOB-301-VRP-100100  VRP\n",
        )
        .unwrap();
        assert_eq!(ok.applicable.len(), 1);
        assert_eq!(ok.not_implemented.len(), 1);
        for bad in [
            "OB-301-ACC-100000  before a section\n",
            "[applicable]\nOB-301-ACC-100000\n",
            "[applicable]\nOB-301-ACC-1  x\n[not implemented]\nOB-301-ACC-1  y\n",
            "[applicable]\nnot-an-id  x\n",
        ] {
            assert!(parse_cases(bad).is_err(), "{bad}");
        }
    }
}
