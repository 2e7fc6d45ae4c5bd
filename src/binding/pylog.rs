//! The core's log lines, sent to the `cloudpartner` logger of Python's `logging`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::client::Log;

const DEBUG: u8 = 10;
const WARNING: u8 = 30;

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The logger, and whether it wanted DEBUG when the call started: checking once per call keeps a
/// silent logger free (no GIL taken for per-attempt lines nobody reads). Warnings are rare and
/// checked when they happen.
pub struct PyLog {
    logger: Py<PyAny>,
    debug: bool,
}

impl PyLog {
    pub fn new(py: Python<'_>) -> PyResult<Self> {
        let logger = LOGGER
            .get_or_try_init(py, || {
                py.import("logging")?.call_method1("getLogger", ("cloudpartner",)).map(Bound::unbind)
            })?
            .bind(py);
        let debug = logger.call_method1("isEnabledFor", (DEBUG,))?.extract()?;
        Ok(Self { debug, logger: logger.clone().unbind() })
    }

    /// `logger.log(level, "%s", message)`, which checks the level (and `logging.disable`) itself.
    fn emit(&self, level: u8, message: &str) {
        // try_attach: a line logged during interpreter shutdown is dropped, not a panic.
        Python::try_attach(|py| {
            // A failing log handler must not fail the call; logging reports its own errors.
            let _ = self.logger.bind(py).call_method1("log", (level, "%s", message));
        });
    }
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
