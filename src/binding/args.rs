//! Python arguments in: each converted to the Rust value the core's validated types are built
//! from, or refused as an `InvalidArgumentError` naming the argument.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString};

use crate::cpp::offer::IfMatch;
use crate::cpp::request::{Action, OfferAction};
use crate::error::{Error, Result};

/// The Python name of a value's type, for messages.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

/// `InvalidArgumentError` for `field`.
#[cold]
pub fn invalid(field: &'static str, reason: String) -> PyErr {
    Error::invalid(field, reason).into()
}

pub fn string(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(s) => text(s, field),
        Err(_) => Err(invalid(field, format!("must be a str, not {}", type_name(value)))),
    }
}

/// A `str` as Rust text; one that is not valid Unicode (a lone surrogate) is refused by field.
fn text(value: &Bound<'_, PyString>, field: &'static str) -> PyResult<String> {
    value
        .to_cow()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| invalid(field, "contains a lone surrogate (not valid Unicode)".to_owned()))
}

pub fn optional_string(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Option<String>> {
    if value.is_none() { Ok(None) } else { string(value, field).map(Some) }
}

/// A filesystem path: a str or an `os.PathLike`.
pub fn path(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<std::path::PathBuf> {
    value
        .extract::<std::path::PathBuf>()
        .map_err(|_| invalid(field, format!("must be a path (str or os.PathLike), not {}", type_name(value))))
}

/// A number of seconds: an int or float (a bool is refused: `True` seconds is a bug).
pub fn seconds(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>()
        || !(value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>())
    {
        return Err(invalid(field, format!("must be a number of seconds, not {}", type_name(value))));
    }
    value.extract::<f64>().map_err(|_| invalid(field, format!("{value} is too large a number of seconds")))
}

/// A count: a non-negative int.
pub fn count(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<u32> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(invalid(field, format!("must be an int, not {}", type_name(value))));
    }
    value.extract::<u32>().map_err(|_| invalid(field, format!("{value} is not a count from 0 up")))
}

/// `None`, one comma-separated string, or any iterable of strings.
pub fn emails(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(one) = value.cast::<PyString>() {
        return Ok(vec![text(one, "emails")?]);
    }
    if value.is_instance_of::<PyBytes>() {
        return Err(invalid("emails", "must be a str or an iterable of str, not bytes".to_owned()));
    }
    let items = value.try_iter().map_err(|_| {
        invalid("emails", format!("must be a str or an iterable of str, not {}", type_name(value)))
    })?;
    let mut out = Vec::new();
    for (index, item) in items.enumerate() {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => out.push(text(s, "emails")?),
            Err(_) => {
                return Err(invalid("emails", format!("item {index} is a {}, not a str", type_name(&item))));
            }
        }
    }
    Ok(out)
}

/// A location string, or a `CancelResult` (anything with `operation_location`).
pub fn location(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyString>() {
        return string(value, "location");
    }
    if value.hasattr("operation_location")? {
        let location = value.getattr("operation_location")?;
        if location.is_none() {
            return Err(invalid("location",
                "the cancel answer names no operation to follow (it completed, or the service sent no location)"
                    .to_owned(),
            ));
        }
        return string(&location, "location");
    }
    Err(invalid("location", format!("must be a location str or a CancelResult, not {}", type_name(value))))
}

/// A batch's items: each a `(publisher, offer)` pair, validated on its own so that one bad item
/// becomes that item's `InvalidArgumentError` instead of failing the batch.
pub fn batch(items: &Bound<'_, PyAny>, emails: &[String]) -> PyResult<Vec<Result<OfferAction>>> {
    if items.is_instance_of::<PyString>() || items.is_instance_of::<PyBytes>() {
        return Err(invalid(
            "items",
            "must be an iterable of (publisher, offer) pairs, not a string".to_owned(),
        ));
    }
    let iterator = items.try_iter().map_err(|_| {
        invalid("items", format!("must be an iterable of (publisher, offer) pairs, not {}", type_name(items)))
    })?;
    let mut calls = Vec::new();
    for item in iterator {
        calls.push(batch_item(&item?, emails));
    }
    Ok(calls)
}

fn batch_item(item: &Bound<'_, PyAny>, emails: &[String]) -> Result<OfferAction> {
    let not_a_pair = || {
        Error::invalid(
            "items",
            format!("each item must be a (publisher, offer) pair, not {}", type_name(item)),
        )
    };
    if item.is_instance_of::<PyString>() {
        return Err(not_a_pair());
    }
    let (publisher, offer) =
        item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>().map_err(|_| not_a_pair())?;
    let text = |value: &Bound<'_, PyAny>, field: &'static str| match value.cast::<PyString>() {
        Ok(s) => s
            .to_cow()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| Error::invalid(field, "is not valid text")),
        Err(_) => Err(Error::invalid(field, format!("must be a str, not {}", type_name(value)))),
    };
    OfferAction::new(
        Action::Cancel,
        &text(&publisher, "publisher")?,
        &text(&offer, "offer")?,
        emails.iter().map(String::as_str),
    )
}

/// A dict as JSON text, written by Python's json (integers of any size stay exact).
pub fn json_object(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Vec<u8>> {
    if !value.is_instance_of::<PyDict>() {
        return Err(invalid(field, format!("must be a dict, not {}", type_name(value))));
    }
    let dumps = value.py().import("json")?.getattr("dumps")?;
    let text =
        dumps.call1((value,)).map_err(|e| invalid(field, format!("cannot be written as JSON ({e})")))?;
    Ok(string(&text, field)?.into_bytes())
}

/// `If-Match`: `"*"`, an ETag string, or an `Offer` (anything with `etag`) whose ETag is used.
pub fn if_match(value: &Bound<'_, PyAny>) -> PyResult<IfMatch> {
    if value.is_instance_of::<PyString>() {
        return Ok(IfMatch::parse(&string(value, "if_match")?)?);
    }
    if value.hasattr("etag")? {
        let etag = value.getattr("etag")?;
        if etag.is_none() {
            return Err(invalid(
                "if_match",
                "the offer carries no ETag (the service sent none); pass if_match=\"*\" to overwrite whatever is stored"
                    .to_owned(),
            ));
        }
        return Ok(IfMatch::parse(&string(&etag, "if_match")?)?);
    }
    Err(invalid(
        "if_match",
        format!("must be \"*\", an ETag str or an Offer from get_offer, not {}", type_name(value)),
    ))
}

/// A list or a dict as JSON, written by Python's json and read back by the core.
pub fn json_value(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<serde_json::Value> {
    if !value.is_instance_of::<PyDict>()
        && !value.is_instance_of::<pyo3::types::PyList>()
        && !value.is_instance_of::<pyo3::types::PyTuple>()
    {
        return Err(invalid(field, format!("must be a list or a dict, not {}", type_name(value))));
    }
    let dumps = value.py().import("json")?.getattr("dumps")?;
    let text =
        dumps.call1((value,)).map_err(|e| invalid(field, format!("cannot be written as JSON ({e})")))?;
    serde_json::from_str(&string(&text, field)?)
        .map_err(|e| invalid(field, format!("is not JSON the service can read ({e})")))
}

/// A str, or a typed object whose `id` is one (a `Job`, a `Product`).
pub fn id_of(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<String> {
    if value.is_instance_of::<PyString>() {
        return string(value, field);
    }
    match value.getattr_opt("id")? {
        Some(id) if id.is_instance_of::<PyString>() => string(&id, field),
        _ => Err(invalid(
            field,
            format!("must be an id str or an object with an id, not {}", type_name(value)),
        )),
    }
}
