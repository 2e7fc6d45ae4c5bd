//! Python arguments in: each converted to the Rust value the core's validated types are built
//! from, or refused as an `InvalidArgumentError` naming the argument.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::cpp::offer::IfMatch;
use crate::cpp::request::{Action, OfferAction};
use crate::error::{Error, Result};
use crate::http::poll::WaitOptions;
use crate::json::{self, Fault};

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

/// A wait's `timeout` and `poll_interval`, each checked (`seconds`, then `WaitOptions::new`).
pub fn wait_options(timeout: &Bound<'_, PyAny>, poll_interval: &Bound<'_, PyAny>) -> PyResult<WaitOptions> {
    Ok(WaitOptions::new(seconds(timeout, "timeout")?, seconds(poll_interval, "poll_interval")?)?)
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

/// Data disks: `(LUN, SAS URI)` pairs, as a list, tuple or other iterable (the core checks them:
/// `validate::data_disks`). A str is refused: iterating it would give its characters.
pub fn data_disks(value: &Bound<'_, PyAny>) -> PyResult<Vec<(u32, String)>> {
    let refused = || invalid("data_disks", format!("must be (LUN, SAS URI) pairs, not {}", type_name(value)));
    if value.is_none() {
        return Ok(Vec::new());
    }
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(refused());
    }
    let mut out = Vec::new();
    for (index, item) in value.try_iter().map_err(|_| refused())?.enumerate() {
        let item = item?;
        let pair = item.extract::<(u32, String)>().map_err(|_| {
            invalid(
                "data_disks",
                format!("item {index} is not a (LUN, SAS URI) pair: a {}", type_name(&item)),
            )
        })?;
        out.push(pair);
        if out.len() > crate::validate::MAX_DATA_DISKS {
            break; // enough for the core to refuse the count, whatever the iterable holds
        }
    }
    Ok(out)
}

/// Image types: one as a str, or several as a list, tuple or other iterable of str (the core
/// checks them: `techconfig::NewImage::new`). Read no further than one past `IMAGE_TYPES`' count,
/// whatever the iterable holds.
pub fn image_types(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Ok(vec![string(value, "image_types")?]);
    }
    let refused = || invalid("image_types", format!("must be a str or strs, not {}", type_name(value)));
    let mut out = Vec::new();
    for item in value.try_iter().map_err(|_| refused())? {
        let item = item?;
        if !item.is_instance_of::<PyString>() {
            return Err(invalid("image_types", format!("must be strs, not a {}", type_name(&item))));
        }
        out.push(string(&item, "image_types")?);
        if out.len() > crate::validate::IMAGE_TYPES.len() {
            let reason = format!("more than {} given; a version has one or two image types", out.len() - 1);
            return Err(invalid("image_types", reason));
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
/// becomes that item's `InvalidArgumentError` instead of failing the batch. The addresses are
/// the whole batch's, checked once (a bad one fails the batch): each item shares the checked
/// list, so the work is linear in the items, whatever the number of addresses.
pub fn batch(items: &Bound<'_, PyAny>, emails: &[String]) -> PyResult<Vec<Result<OfferAction>>> {
    let emails = crate::validate::emails(emails.iter().map(String::as_str))?;
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
        calls.push(batch_item(&item?, &emails));
    }
    Ok(calls)
}

/// One item, its ids checked; `emails` were checked for the batch.
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
    let call =
        OfferAction::new(Action::Cancel, &text(&publisher, "publisher")?, &text(&offer, "offer")?, [])?;
    Ok(OfferAction { emails: emails.to_vec(), ..call })
}

/// A dict as the JSON object it stands for (`put_offer`'s definition), refused by `field`
/// (`json_document`).
pub fn json_object(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Value> {
    if !value.is_instance_of::<PyDict>() {
        return Err(invalid(field, format!("must be a dict, not {}", type_name(value))));
    }
    json_document(value, field)
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

/// A list or a dict as JSON (`configure`'s resources), refused by `field` (`json_document`).
pub fn json_value(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Value> {
    if !(value.is_instance_of::<PyDict>()
        || value.is_instance_of::<PyList>()
        || value.is_instance_of::<PyTuple>())
    {
        return Err(invalid(field, format!("must be a list or a dict, not {}", type_name(value))));
    }
    json_document(value, field)
}

/// A document to send, written here rather than by Python's `json` so that each refusal says
/// what and where (`has NaN (not valid JSON) at $.plans[0].x`) and the bounds are the ones
/// every document read keeps (`json`): what the client reads it can write back. No Python code
/// runs meanwhile (no `__repr__`, `__str__` or `__int__` of a subclass).
fn json_document(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Value> {
    to_json(value, 0).map_err(|fault| invalid(field, fault.to_string()))
}

/// `value` as JSON; `depth` is how many lists and dicts hold it (the document itself: 0).
fn to_json(value: &Bound<'_, PyAny>, depth: usize) -> std::result::Result<Value, Fault> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return s
            .to_cow()
            .map(|text| Value::String(text.into_owned()))
            .map_err(|_| Fault::new("a str with a lone surrogate (not valid Unicode)"));
    }
    if value.is_instance_of::<PyInt>() {
        return json_integer(value).map(Value::Number);
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        let x = f.value();
        return Number::from_f64(x).map(Value::Number).ok_or_else(|| {
            let name = if x.is_nan() {
                "NaN"
            } else if x > 0.0 {
                "infinity"
            } else {
                "-infinity"
            };
            Fault::new(format!("{name} (not valid JSON)"))
        });
    }
    if let Ok(list) = value.cast::<PyList>() {
        return json_array(list.iter(), depth);
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return json_array(tuple.iter(), depth);
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        return json_map(dict, depth);
    }
    Err(not_json(value))
}

/// The level of the items of a list or dict held by `depth` others, checked before going in
/// (a list holding itself stops here too).
fn inside(depth: usize) -> std::result::Result<usize, Fault> {
    if depth >= json::MAX_DEPTH { Err(Fault::too_deep()) } else { Ok(depth + 1) }
}

/// A list or tuple held by `depth` others, as a JSON list.
fn json_array<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
) -> std::result::Result<Value, Fault> {
    let level = inside(depth)?;
    items
        .enumerate()
        .map(|(index, item)| to_json(&item, level).map_err(|fault| fault.in_item(index)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// A dict held by `depth` others, as a JSON object: its keys must be str.
fn json_map(dict: &Bound<'_, PyDict>, depth: usize) -> std::result::Result<Value, Fault> {
    let level = inside(depth)?;
    let mut map = Map::new();
    // `items()` is a snapshot (a list of pairs), read whole whatever else holds the dict.
    for (key, item) in
        dict.items().iter().filter_map(|pair| pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>().ok())
    {
        let key = match key.cast::<PyString>() {
            Ok(key) => {
                key.to_cow().map_err(|_| Fault::new("a key with a lone surrogate (not valid Unicode)"))?
            }
            Err(_) => {
                return Err(Fault::new(format!("a key of type {} (JSON keys are str)", type_name(&key))));
            }
        };
        let item = to_json(&item, level).map_err(|fault| fault.in_key(&key))?;
        map.insert(key.into_owned(), item);
    }
    Ok(Value::Object(map))
}

#[cold]
fn not_json(value: &Bound<'_, PyAny>) -> Fault {
    Fault::new(format!(
        "a value of type {} (JSON holds dict, list, tuple, str, int, float, bool and None)",
        type_name(value)
    ))
}

/// An int (or an `int` subclass, read as `int` itself, as `json` does) as an exact JSON integer
/// within `json::MAX_INTEGER_DIGITS`; one far longer is refused from its size, before any text
/// of it is made (turning a huge int to text is slow, and Python may refuse it).
fn json_integer(value: &Bound<'_, PyAny>) -> std::result::Result<Number, Fault> {
    if let Ok(small) = value.extract::<i64>() {
        return Ok(small.into());
    }
    if let Ok(small) = value.extract::<u64>() {
        return Ok(small.into());
    }
    let int = value.py().get_type::<PyInt>();
    let bits = int
        .getattr("bit_length")
        .and_then(|f| f.call1((value,)))
        .and_then(|n| n.extract::<u64>())
        .map_err(|_| Fault::long_integer())?;
    // A decimal digit holds less than 4 bits: more bits than 4 per allowed digit is too long.
    if bits > 4 * json::MAX_INTEGER_DIGITS as u64 {
        return Err(Fault::long_integer());
    }
    let text = int.getattr("__repr__").and_then(|f| f.call1((value,))).map_err(|_| Fault::long_integer())?;
    let text = text
        .cast::<PyString>()
        .map_err(|_| Fault::long_integer())?
        .to_cow()
        .map_err(|_| Fault::long_integer())?;
    json::integer(&text)
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
