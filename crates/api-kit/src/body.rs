//! Strict request bodies (RW §JSON Error Response): the wire type is the schema, closed with
//! `#[serde(deny_unknown_fields)]` on every object, and each problem is an OB error with its
//! exact JSON path. A body that is not JSON, or not an object, is
//! `UK.OBIE.Resource.InvalidFormat`; an unknown field `UK.OBIE.Field.Unexpected`; a missing one
//! `UK.OBIE.Field.Missing`; a wrong type, value or repeated name `UK.OBIE.Field.Invalid`.
//!
//! How the kind is known without reading serde's error text: the body is read once into a JSON
//! tree (repeated names refused), then the wire type is deserialised from that tree by
//! [`Node`], a deserializer whose error type is our own. serde's derived code reports each
//! problem through a typed constructor of `serde::de::Error` (`unknown_field`,
//! `missing_field`, `invalid_type`, ...), so the constructor called is the kind; `Node` knows
//! where it stands in the tree, so it adds the path. (`serde_path_to_error` gives the path
//! but only serde_json's untyped error, so the kind would still be text.)

use std::cell::RefCell;
use std::fmt;

use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess,
    Unexpected, Visitor, value::BorrowedStrDeserializer,
};
use serde_json::{Map, Number, Value};

/// 400 with one error `code` at `path`.
pub fn field_error(code: ObErrorCode, message: impl Into<String>, path: &str) -> Error {
    Error::BadRequest(vec![ObErrorDetail::new(code, message).at(path)])
}

/// A `Max{max}Text` value (`minLength` 1), or 400 `UK.OBIE.Field.Invalid` at `path`.
pub fn text<'a>(value: &'a str, max: usize, path: &str) -> Result<&'a str, Error> {
    if (1..=max).contains(&value.chars().count()) {
        Ok(value)
    } else {
        Err(field_error(
            ObErrorCode::FieldInvalid,
            format!("{path} must be 1 to {max} characters"),
            path,
        ))
    }
}

/// The body as the wire type `T` (the schema `schema`, named in messages), or 400 with the OB
/// code and path of the first problem.
pub fn parse<T: DeserializeOwned>(raw: &[u8], schema: &str) -> Result<T, Error> {
    let not_an_object = || {
        Error::bad_request(
            ObErrorCode::ResourceInvalidFormat,
            format!("The body is not a JSON {schema} object"),
        )
    };
    let repeated = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_slice(raw);
    let tree = Tree {
        path: String::new(),
        repeated: &repeated,
    }
    .deserialize(&mut reader)
    .and_then(|tree| reader.end().map(|()| tree));
    let tree = match tree {
        Ok(tree @ Value::Object(_)) => tree,
        Ok(_) => return Err(not_an_object()),
        // The tree reader only fails for a repeated name (noted aside) or bad JSON.
        Err(_) => {
            return Err(match repeated.into_inner() {
                Some(path) => field_error(
                    ObErrorCode::FieldInvalid,
                    format!("{path} appears more than once"),
                    &path,
                ),
                None => not_an_object(),
            });
        }
    };
    T::deserialize(Node {
        value: &tree,
        path: String::new(),
    })
    .map_err(|e| e.into_error(schema))
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Reads JSON into a `Value` like serde_json does, but refuses a name repeated in one object
/// (serde_json keeps the last silently; a closed schema should not).
struct Tree<'r> {
    path: String,
    repeated: &'r RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tree<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Tree {
            path: format!("{}[{}]", self.path, items.len()),
            repeated: self.repeated,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let path = join(&self.path, &name);
            if fields.contains_key(&name) {
                *self.repeated.borrow_mut() = Some(path);
                return Err(de::Error::custom("repeated name"));
            }
            let value = map.next_value_seed(Tree {
                path,
                repeated: self.repeated,
            })?;
            fields.insert(name, value);
        }
        Ok(Value::Object(fields))
    }
}

/// What serde's derived code found wrong, by the `de::Error` constructor it called.
#[derive(Debug)]
enum Problem {
    Unexpected,
    Missing(&'static str),
    Invalid(String),
}

/// A problem and, once known, the path it is at.
#[derive(Debug)]
struct BodyError {
    problem: Problem,
    path: Option<String>,
}

impl BodyError {
    fn invalid(detail: String) -> Self {
        BodyError {
            problem: Problem::Invalid(detail),
            path: None,
        }
    }

    /// Places the problem at `path`, where the deserializer that found it stands, unless a
    /// deeper one already did. A missing field is reported by its object, so it is one deeper.
    fn at(mut self, path: &str) -> Self {
        if self.path.is_none() {
            self.path = Some(match self.problem {
                Problem::Missing(field) => join(path, field),
                _ => path.to_owned(),
            });
        }
        self
    }

    fn into_error(self, schema: &str) -> Error {
        let path = self.path.filter(|p| !p.is_empty());
        let (code, message) = match (&self.problem, &path) {
            (Problem::Unexpected, Some(p)) => (
                ObErrorCode::FieldUnexpected,
                format!("Unexpected field {p}"),
            ),
            (Problem::Missing(_), Some(p)) => {
                (ObErrorCode::FieldMissing, format!("Missing field {p}"))
            }
            (Problem::Invalid(detail), Some(p)) => {
                (ObErrorCode::FieldInvalid, format!("{p} {detail}"))
            }
            (_, None) => (
                ObErrorCode::FieldInvalid,
                format!("The body does not match {schema}: {}", self.problem),
            ),
        };
        let detail = ObErrorDetail::new(code, message);
        Error::BadRequest(vec![match path {
            Some(p) => detail.at(p),
            None => detail,
        }])
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unexpected => f.write_str("unexpected field"),
            Problem::Missing(field) => write!(f, "missing field {field}"),
            Problem::Invalid(detail) => f.write_str(detail),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl std::error::Error for BodyError {}

impl de::Error for BodyError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        BodyError::invalid(format!("is invalid: {msg}"))
    }

    fn invalid_type(unexp: Unexpected, exp: &dyn Expected) -> Self {
        BodyError::invalid(format!("must be {exp}, not {unexp}"))
    }

    fn invalid_value(unexp: Unexpected, exp: &dyn Expected) -> Self {
        BodyError::invalid(format!("must be {exp}, not {unexp}"))
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        BodyError::invalid(format!("must have {exp}, not {len}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        BodyError::invalid(format!(
            "must be one of {}, not {variant}",
            expected.join(", ")
        ))
    }

    fn unknown_field(_field: &str, _expected: &'static [&'static str]) -> Self {
        BodyError {
            problem: Problem::Unexpected,
            path: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        BodyError {
            problem: Problem::Missing(field),
            path: None,
        }
    }

    fn duplicate_field(_field: &'static str) -> Self {
        BodyError::invalid("appears more than once".into())
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("a number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// A value of the body tree and its path: the deserializer the wire type is read through.
struct Node<'de> {
    value: &'de Value,
    path: String,
}

impl<'de> Deserializer<'de> for Node<'de> {
    type Error = BodyError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyError> {
        let path = self.path;
        let read = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(BodyError::invalid("is not a number".into())),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let mut seq = Items {
                    items: items.iter(),
                    index: 0,
                    path: &path,
                };
                visitor.visit_seq(&mut seq).and_then(|v| {
                    if seq.items.as_slice().is_empty() {
                        Ok(v)
                    } else {
                        Err(de::Error::invalid_length(items.len(), &"fewer elements"))
                    }
                })
            }
            Value::Object(map) => visitor.visit_map(Fields {
                fields: map.iter(),
                value: None,
                path: &path,
            }),
        };
        read.map_err(|e| e.at(&path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, BodyError> {
        visitor.visit_newtype_struct(self)
    }

    /// An object, nothing else (serde_json would also take an array, field by position).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BodyError> {
        match self.value {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(
                <BodyError as de::Error>::invalid_type(unexpected(other), &visitor).at(&self.path),
            ),
        }
    }

    /// A unit variant as its name (the only enum form the OB schemas use).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BodyError> {
        match self.value {
            Value::String(s) => visitor
                .visit_enum(BorrowedStrDeserializer::new(s))
                .map_err(|e: BodyError| e.at(&self.path)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct Items<'de, 'p> {
    items: std::slice::Iter<'de, Value>,
    index: usize,
    path: &'p str,
}

impl<'de> SeqAccess<'de> for Items<'de, '_> {
    type Error = BodyError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, BodyError> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(Node { value, path }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Fields<'de, 'p> {
    fields: serde_json::map::Iter<'de>,
    value: Option<(&'de str, &'de Value)>,
    path: &'p str,
}

impl<'de> MapAccess<'de> for Fields<'de, '_> {
    type Error = BodyError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, BodyError> {
        let Some((name, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some((name, value));
        // An unknown name is refused while its key is read: the problem is at that key.
        seed.deserialize(BorrowedStrDeserializer::<BodyError>::new(name))
            .map(Some)
            .map_err(|e| e.at(&join(self.path, name)))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, BodyError> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| BodyError::invalid("has a value without a name".into()))?;
        seed.deserialize(Node {
            value,
            path: join(self.path, name),
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
    struct Request {
        data: Data,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
    struct Data {
        consent_id: String,
        reference: Option<String>,
        #[serde(default)]
        permissions: Vec<Permission>,
        amount: Option<crate::Amount>,
        count: Option<u8>,
        extra: Option<Value>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Permission {
        ReadBalances,
        ReadAccountsBasic,
    }

    fn problem(raw: &str) -> (&'static str, Option<String>) {
        match parse::<Request>(raw.as_bytes(), "OBTest1") {
            Err(Error::BadRequest(d)) => (d[0].code.as_str(), d[0].path.clone()),
            other => panic!("{raw}: not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_body_matching_the_type_is_read() {
        let r: Request = parse(
            br#"{"Data":{"ConsentId":"c-1","Permissions":["ReadBalances"],
                "Amount":{"Amount":"1.00","Currency":"GBP"},"Count":3,
                "Extra":{"Anything":[1,"x",null]}}}"#,
            "OBTest1",
        )
        .unwrap();
        assert_eq!(r.data.consent_id, "c-1");
        assert_eq!(r.data.reference, None);
        assert_eq!(r.data.permissions, vec![Permission::ReadBalances]);
        assert_eq!(r.data.count, Some(3));
        assert_eq!(
            r.data.extra,
            Some(serde_json::json!({"Anything": [1, "x", null]}))
        );
    }

    #[test]
    fn an_unknown_field_is_refused_at_its_path() {
        assert_eq!(
            problem(r#"{"Data":{"ConsentId":"c"},"Risk":{}}"#),
            ("UK.OBIE.Field.Unexpected", Some("Risk".into()))
        );
        assert_eq!(
            problem(
                r#"{"Data":{"ConsentId":"c","Amount":{"Amount":"1","Currency":"GBP","Sign":"-"}}}"#
            ),
            ("UK.OBIE.Field.Unexpected", Some("Data.Amount.Sign".into()))
        );
        // A misspelt optional field is refused, not ignored.
        assert_eq!(
            problem(r#"{"Data":{"ConsentId":"c","reference":"r"}}"#),
            ("UK.OBIE.Field.Unexpected", Some("Data.reference".into()))
        );
    }

    #[test]
    fn a_missing_field_is_named_by_its_path() {
        assert_eq!(
            problem("{}"),
            ("UK.OBIE.Field.Missing", Some("Data".into()))
        );
        assert_eq!(
            problem(r#"{"Data":{}}"#),
            ("UK.OBIE.Field.Missing", Some("Data.ConsentId".into()))
        );
        assert_eq!(
            problem(r#"{"Data":{"ConsentId":"c","Amount":{"Amount":"1"}}}"#),
            ("UK.OBIE.Field.Missing", Some("Data.Amount.Currency".into()))
        );
    }

    #[test]
    fn a_wrong_type_or_value_is_invalid_at_its_path() {
        for (raw, path) in [
            (r#"{"Data":{"ConsentId":1}}"#, "Data.ConsentId"),
            (r#"{"Data":{"ConsentId":null}}"#, "Data.ConsentId"),
            (r#"{"Data":"x"}"#, "Data"),
            (r#"{"Data":["c"]}"#, "Data"),
            (r#"{"Data":{"ConsentId":"c","Count":256}}"#, "Data.Count"),
            (r#"{"Data":{"ConsentId":"c","Count":-1}}"#, "Data.Count"),
            (r#"{"Data":{"ConsentId":"c","Count":1.5}}"#, "Data.Count"),
            (
                r#"{"Data":{"ConsentId":"c","Permissions":["ReadBalances","ReadAll"]}}"#,
                "Data.Permissions[1]",
            ),
            (
                r#"{"Data":{"ConsentId":"c","Permissions":{}}}"#,
                "Data.Permissions",
            ),
            (
                r#"{"Data":{"ConsentId":"c","ConsentId":"d"}}"#,
                "Data.ConsentId",
            ),
        ] {
            assert_eq!(
                problem(raw),
                ("UK.OBIE.Field.Invalid", Some(path.into())),
                "{raw}"
            );
        }
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        for raw in ["{", "[]", "\"x\"", "", "null", "{} {}", "{\"Data\":{}"] {
            assert_eq!(
                problem(raw),
                ("UK.OBIE.Resource.InvalidFormat", None),
                "{raw}"
            );
        }
    }

    #[test]
    fn no_input_makes_the_parser_panic() {
        // Every prefix and every one-byte corruption of a valid body: each is read or refused
        // with a 400, none panics.
        let valid = br#"{"Data":{"ConsentId":"c","Permissions":["ReadBalances"],"Amount":{"Amount":"1","Currency":"GBP"},"Count":2,"Extra":[{"A":[true,1.5,-2]}]}}"#;
        for end in 0..=valid.len() {
            let _ = parse::<Request>(&valid[..end], "OBTest1");
        }
        for i in 0..valid.len() {
            for b in [b'"', b'{', b'}', b'[', b']', b',', b':', b'1', b'x', 0xff] {
                let mut raw = valid.to_vec();
                raw[i] = b;
                match parse::<Request>(&raw, "OBTest1") {
                    Ok(_) | Err(Error::BadRequest(_)) => {}
                    Err(other) => panic!("not a 400: {other:?}"),
                }
            }
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            problem(&format!(r#"{{"Data":{{"ConsentId":"c","Extra":{deep}}}}}"#)).0,
            "UK.OBIE.Resource.InvalidFormat"
        );
    }

    #[test]
    fn text_is_one_to_max_characters() {
        assert_eq!(text("é", 1, "Data.R").unwrap(), "é");
        for bad in ["", "ab"] {
            match text(bad, 1, "Data.R") {
                Err(Error::BadRequest(d)) => {
                    assert_eq!(d[0].code, ObErrorCode::FieldInvalid);
                    assert_eq!(d[0].path.as_deref(), Some("Data.R"));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
