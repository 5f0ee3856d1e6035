//! The engine's logs (`tracing` events) delivered to JavaScript: `setLogger(level, callback)`.
//!
//! One subscriber is installed for the module on first use; it reads the level and callback of
//! this thread, so the package can change both at any time. With no callback, logs at `warn` and
//! above go to the console (`console.warn`/`console.error`); `"silent"` drops everything.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use js_sys::{Function, Object};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use wasm_bindgen::prelude::*;

use crate::convert::set;

struct Logger {
    /// The most verbose level delivered; `None`: silent.
    max: Option<Level>,
    callback: Option<Function>,
}

thread_local! {
    static LOGGER: RefCell<Logger> = const {
        RefCell::new(Logger {
            max: Some(Level::WARN),
            callback: None,
        })
    };
}

static INSTALL: Once = Once::new();

/// Sets the engine's log level (`"silent"`, `"error"`, `"warn"` (default), `"info"`, `"debug"`,
/// `"trace"`) and where logs go: `callback({level, target, message, fields})`, or the console when
/// `callback` is `null`/`undefined`.
#[wasm_bindgen(js_name = setLogger)]
pub fn set_logger(level: &str, callback: Option<Function>) -> Result<(), JsValue> {
    let max = match level {
        "silent" => None,
        "error" => Some(Level::ERROR),
        "warn" => Some(Level::WARN),
        "info" => Some(Level::INFO),
        "debug" => Some(Level::DEBUG),
        "trace" => Some(Level::TRACE),
        other => {
            return Err(crate::convert::input_error(format!(
                "unknown log level {other:?}: use \"silent\", \"error\", \"warn\", \"info\", \"debug\" or \"trace\""
            )))
        }
    };
    LOGGER.with(|l| {
        let mut l = l.borrow_mut();
        l.max = max;
        l.callback = callback;
    });
    install();
    Ok(())
}

/// Installs the subscriber once (later calls do nothing).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        if tracing::subscriber::set_global_default(JsSubscriber::default()).is_err() {
            web_sys::console::warn_1(&JsValue::from_str(
                "[filesync] another tracing subscriber is installed; engine logs go there",
            ));
        }
    });
}

/// Collects an event's message and fields.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Object,
    text: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        self.record_text(field, text);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_owned());
    }
}

impl Fields {
    fn record_text(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = text;
        } else {
            let _ = write!(self.text, " {}={}", field.name(), text);
            set(&self.rest, field.name(), text);
        }
    }
}

/// Delivers events to the thread's logger; spans are given ids and otherwise ignored.
#[derive(Default)]
struct JsSubscriber {
    next_span: AtomicU64,
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

impl Subscriber for JsSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        LOGGER.with(|l| l.borrow().max.is_some_and(|max| *metadata.level() <= max))
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let callback = LOGGER.with(|l| l.borrow().callback.clone());
        let level = level_name(metadata.level());
        match callback {
            Some(callback) => {
                let entry = Object::new();
                set(&entry, "level", level);
                set(&entry, "target", metadata.target());
                set(&entry, "message", fields.message.as_str());
                set(&entry, "fields", fields.rest);
                // A throwing log callback must not break the engine; there is nowhere else to say so.
                let _ = callback.call1(&JsValue::UNDEFINED, &entry);
            }
            None => {
                let line = JsValue::from_str(&format!(
                    "[filesync] {level} {}:{}",
                    fields.message, fields.text
                ));
                if *metadata.level() == Level::ERROR {
                    web_sys::console::error_1(&line);
                } else {
                    web_sys::console::warn_1(&line);
                }
            }
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}
