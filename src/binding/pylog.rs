//! The core's log lines, sent to the `cloudpartner` logger of Python's `logging`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::http::Log;

const DEBUG: u8 = 10;
const WARNING: u8 = 30;

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Whether the logger wanted DEBUG when the call started: checking once per call keeps a silent
/// logger free (no GIL taken for per-attempt lines nobody reads). Warnings are rare and checked
/// when they happen.
pub struct PyLog {
    debug: bool,
}

impl PyLog {
    pub fn new(py: Python<'_>) -> PyResult<Self> {
        let debug = match logger(py, false)? {
            Some(logger) => logger.call_method1("isEnabledFor", (DEBUG,))?.extract()?,
            None => false,
        };
        Ok(Self { debug })
    }

    /// `logger.log(level, "%s", message)`, which checks the level (and `logging.disable`) itself.
    fn emit(&self, level: u8, message: &str) {
        // try_attach: a line logged during interpreter shutdown is dropped, not a panic.
        Python::try_attach(|py| {
            // A failing log handler must not fail the call; logging reports its own errors.
            if let Ok(Some(logger)) = logger(py, true) {
                let _ = logger.call_method1("log", (level, "%s", message));
            }
        });
    }
}

/// The `cloudpartner` logger. Until something imports `logging` nobody can have configured it, so
/// there is none to ask whether DEBUG is on (`import logging` costs a first call milliseconds);
/// `import_it` imports it anyway, for a warning, which logging's last resort prints to stderr.
fn logger(py: Python<'_>, import_it: bool) -> PyResult<Option<&Bound<'_, PyAny>>> {
    if let Some(logger) = LOGGER.get(py) {
        return Ok(Some(logger.bind(py)));
    }
    if !import_it && !py.import("sys")?.getattr("modules")?.contains("logging")? {
        return Ok(None);
    }
    let logger = LOGGER.get_or_try_init(py, || {
        py.import("logging")?.call_method1("getLogger", ("cloudpartner",)).map(Bound::unbind)
    })?;
    Ok(Some(logger.bind(py)))
}

impl Log for PyLog {
    fn debug_enabled(&self) -> bool {
        self.debug
    }

    fn debug(&self, message: &str) {
        if self.debug {
            self.emit(DEBUG, message);
        }
    }

    fn warning(&self, message: &str) {
        self.emit(WARNING, message);
    }
}
