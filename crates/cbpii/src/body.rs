//! Strict reading of request bodies against a closed schema, with the exact JSON path of each
//! problem in the OB error (RW §JSON Error Response): a body that is not a JSON object is
//! `UK.OBIE.Resource.InvalidFormat`, an unknown field `UK.OBIE.Field.Unexpected`, a missing
//! one `UK.OBIE.Field.Missing`, a value of the wrong type or size `UK.OBIE.Field.Invalid`.
//! The schemas close only their top level; Bascule closes every object, so a misspelt
//! optional field (`ExpirationDatetime`) is refused instead of silently ignored.

use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde_json::{Map, Value};

pub(crate) fn field_error(code: ObErrorCode, message: impl Into<String>, path: &str) -> Error {
    Error::BadRequest(vec![ObErrorDetail::new(code, message).at(path)])
}

/// The body as a JSON object, or 400 `UK.OBIE.Resource.InvalidFormat`.
pub(crate) fn parse(raw: &[u8], schema: &str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::bad_request(
            ObErrorCode::ResourceInvalidFormat,
            format!("The body is not a JSON {schema} object"),
        )),
    }
}

/// A closed object at `path`: the fields outside `known` are refused, those in `required`
/// must be present.
pub(crate) struct Object<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

impl<'a> Object<'a> {
    pub(crate) fn closed(
        map: &'a Map<String, Value>,
        path: &str,
        known: &[&str],
        required: &[&str],
    ) -> Result<Self, Error> {
        if let Some(extra) = map.keys().find(|k| !known.contains(&k.as_str())) {
            let at = join(path, extra);
            return Err(field_error(
                ObErrorCode::FieldUnexpected,
                format!("Unexpected field {at}"),
                &at,
            ));
        }
        if let Some(missing) = required.iter().find(|r| !map.contains_key(**r)) {
            let at = join(path, missing);
            return Err(field_error(
                ObErrorCode::FieldMissing,
                format!("Missing field {at}"),
                &at,
            ));
        }
        Ok(Self {
            map,
            path: path.to_owned(),
        })
    }

    /// The nested closed object `field` (required by the caller's `required` list or absent).
    pub(crate) fn object(
        &self,
        field: &str,
        known: &[&str],
        required: &[&str],
    ) -> Result<Option<Object<'a>>, Error> {
        let at = join(&self.path, field);
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Object::closed(map, &at, known, required).map(Some),
            Some(_) => Err(field_error(
                ObErrorCode::FieldInvalid,
                format!("{at} must be an object"),
                &at,
            )),
        }
    }

    /// The string `field` (absent: `None`), between `min` and `max` characters.
    pub(crate) fn string(
        &self,
        field: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&'a str>, Error> {
        let at = join(&self.path, field);
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if (min..=max).contains(&s.chars().count()) => {
                Ok(Some(s.as_str()))
            }
            Some(Value::String(_)) => Err(field_error(
                ObErrorCode::FieldInvalid,
                format!("{at} must be {min} to {max} characters"),
                &at,
            )),
            Some(_) => Err(field_error(
                ObErrorCode::FieldInvalid,
                format!("{at} must be a string"),
                &at,
            )),
        }
    }

    /// [`Object::string`] for a field the `required` list guarantees is present.
    pub(crate) fn required_string(
        &self,
        field: &str,
        min: usize,
        max: usize,
    ) -> Result<&'a str, Error> {
        self.string(field, min, max)?.ok_or_else(|| {
            let at = join(&self.path, field);
            field_error(
                ObErrorCode::FieldMissing,
                format!("Missing field {at}"),
                &at,
            )
        })
    }

    /// The nested object the `required` list guarantees is present.
    pub(crate) fn required_object(
        &self,
        field: &str,
        known: &[&str],
        required: &[&str],
    ) -> Result<Object<'a>, Error> {
        self.object(field, known, required)?.ok_or_else(|| {
            let at = join(&self.path, field);
            field_error(
                ObErrorCode::FieldMissing,
                format!("Missing field {at}"),
                &at,
            )
        })
    }

    pub(crate) fn path_of(&self, field: &str) -> String {
        join(&self.path, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_path(e: Error) -> (&'static str, Option<String>) {
        match e {
            Error::BadRequest(d) => (d[0].code.as_str(), d[0].path.clone()),
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn closed_objects_name_the_offending_path() {
        let map = parse(br#"{"Data":{"A":"x","B":1}}"#, "X").unwrap();
        let top = Object::closed(&map, "", &["Data"], &["Data"]).unwrap();
        let e = top.object("Data", &["A"], &["A"]).err().unwrap();
        assert_eq!(
            code_and_path(e),
            ("UK.OBIE.Field.Unexpected", Some("Data.B".into()))
        );
        let e = top.object("Data", &["A", "B", "C"], &["C"]).err().unwrap();
        assert_eq!(
            code_and_path(e),
            ("UK.OBIE.Field.Missing", Some("Data.C".into()))
        );
        let data = top.object("Data", &["A", "B"], &[]).unwrap().unwrap();
        assert_eq!(data.string("A", 1, 1).unwrap(), Some("x"));
        assert_eq!(
            code_and_path(data.string("B", 1, 3).unwrap_err()),
            ("UK.OBIE.Field.Invalid", Some("Data.B".into()))
        );
        assert_eq!(
            code_and_path(data.string("A", 2, 3).unwrap_err()),
            ("UK.OBIE.Field.Invalid", Some("Data.A".into()))
        );
    }

    #[test]
    fn only_json_objects_are_bodies() {
        for raw in [&b"{"[..], b"[]", b"\"x\"", b""] {
            let e = parse(raw, "X").unwrap_err();
            assert_eq!(code_and_path(e).0, "UK.OBIE.Resource.InvalidFormat");
        }
    }
}
