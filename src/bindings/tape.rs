//! Deterministic replay: how one execution waits for the network without a Rust future.
//!
//! An execution that needs the Management API is run as a series of synchronous *passes*
//! over the same code (`apply`). Everything a pass learns from outside — the clock,
//! randomness, cache reads, who leads a shared look-up, and the answers to its requests —
//! goes through the execution's tape: the first pass records it, later passes read it back,
//! so every pass takes the same path up to the tape's end. There the pass either finishes
//! (the outcome) or stops at the first thing it must wait for (an [`Ask`]: a request, a
//! sleep, a turn at the gate, another execution's look-up), which the JS shim carries out
//! and answers; the answer is appended and the next pass runs.
//!
//! Side effects on shared state (caches, the gate, Auth0's `api`) are made only *live*,
//! i.e. past the tape's end, so a replayed pass never repeats one. Async state machines
//! were ~28 kB of the Action file; this is what replaced them.

#[allow(unused_imports)]
use crate::prelude::*;

use super::global::Global;
use crate::core::error::Error;
use wasm_bindgen::JsValue;

/// A pass stopped: it waits for the answer to the pending [`Ask`].
#[derive(Debug)]
pub struct Suspend;

/// A result that may have to wait: `Err(Suspend)` propagates with `?` up to the pass,
/// while the inner `Result` carries the call's own error to be handled where it was.
pub type Io<T> = Result<Result<T, Error>, Suspend>;

/// What a pass waits for (built by the caller, carried out by the shim).
pub enum Ask {
    /// A `fetch`: `{fetch: url, method, headers, body, timeout}` (see `http::ask`).
    Fetch(JsValue, crate::core::error::Call),
    /// `{sleep: ms}`.
    Sleep(f64),
    /// `{queue: ms}`: a turn at the container's gate within `ms` (answer: got it).
    Queue(f64),
    /// `{wait: key}`: until another execution's shared work for `key` has settled.
    Wait(String),
}

/// One recorded input.
#[derive(Clone)]
pub enum Ev {
    /// A number (clock, randomness, a hold time).
    Num(f64),
    /// A text or its absence (a cache read).
    Text(Option<String>),
    /// Another execution's id leading shared work (0: none), or a turn at the gate.
    Id(u32),
    /// A finished shared result.
    Shared(Option<Result<String, Error>>),
    /// A reply (or transport error) to a `Fetch`.
    Reply(Result<super::http::Reply, Error>),
    /// A `Sleep`, `Queue` or `Wait` answered (`Queue`: whether the turn came).
    Done(bool),
}

/// One execution's recorded inputs and its read position in the current pass.
#[derive(Default)]
pub struct Tape {
    events: Vec<Ev>,
    pos: usize,
    /// The execution's id (shared work records its leader).
    pub run: u32,
}

impl Tape {
    /// Appends the answer to the pending ask.
    pub fn answer(&mut self, ev: Ev) {
        self.events.push(ev);
    }

    /// Back to the start, for the next pass.
    pub fn rewind(&mut self) {
        self.pos = 0;
    }
}

/// The tape of the pass in progress (passes are synchronous and never nest).
static CURRENT: Global<Option<Tape>> = Global::new(None);

/// The ask a suspended pass left (taken by the pass's caller).
static PENDING: Global<Option<Ask>> = Global::new(None);

/// Runs `pass` over `tape` (rewound); returns the tape and the pass's result, with the
/// pending ask when it suspended.
pub fn run_pass<T>(
    mut tape: Tape,
    pass: impl FnOnce() -> Result<T, Suspend>,
) -> (Tape, Result<T, Ask>) {
    tape.rewind();
    CURRENT.with(|c| *c.borrow_mut() = Some(tape));
    let r = pass();
    let tape = CURRENT.with(|c| c.borrow_mut().take()).unwrap_or_default();
    let r = r.map_err(|_| {
        PENDING
            .with(|p| p.borrow_mut().take())
            .unwrap_or(Ask::Sleep(0.0))
    });
    (tape, r)
}

/// The next recorded input, or `None` when the pass is live (past the tape's end).
fn next() -> Option<Ev> {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let t = c.as_mut()?;
        let ev = t.events.get(t.pos).cloned();
        if ev.is_some() {
            t.pos += 1;
        }
        ev
    })
}

fn record(ev: Ev) {
    CURRENT.with(|c| {
        if let Some(t) = c.borrow_mut().as_mut() {
            t.events.push(ev);
            t.pos += 1;
        }
    });
}

/// A pass that read something other than what the tape recorded there: the code took a
/// path the first pass did not, so nothing it would do can be trusted. It traps; the shim
/// applies `on_error` and replaces the instance.
#[cold]
fn out_of_step() -> ! {
    panic!("replay out of step")
}

/// The running execution's id (0 outside a pass).
pub fn run_id() -> u32 {
    CURRENT.with(|c| c.borrow().as_ref().map_or(0, |t| t.run))
}

/// Whether the pass is live: past the tape's end, where effects are made.
pub fn live() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_none_or(|t| t.pos >= t.events.len()))
}

/// Makes `f`'s effect only when live (a replayed pass made it before).
pub fn effect(f: impl FnOnce()) {
    if live() {
        f();
    }
}

/// A number from outside (`f` runs live only), recorded.
pub fn num(f: impl FnOnce() -> f64) -> f64 {
    match next() {
        Some(Ev::Num(n)) => n,
        Some(_) => out_of_step(),
        None => {
            let n = f();
            record(Ev::Num(n));
            n
        }
    }
}

/// `Date.now()`, recorded.
pub fn now() -> f64 {
    num(js_sys::Date::now)
}

/// A text from outside (a cache read), recorded.
pub fn text(f: impl FnOnce() -> Option<String>) -> Option<String> {
    match next() {
        Some(Ev::Text(t)) => t,
        Some(_) => out_of_step(),
        None => {
            let t = f();
            record(Ev::Text(t.clone()));
            t
        }
    }
}

/// An id from outside (who leads shared work), recorded.
pub fn id(f: impl FnOnce() -> u32) -> u32 {
    match next() {
        Some(Ev::Id(n)) => n,
        Some(_) => out_of_step(),
        None => {
            let n = f();
            record(Ev::Id(n));
            n
        }
    }
}

/// A shared result from outside, recorded.
pub fn shared(f: impl FnOnce() -> Option<Result<String, Error>>) -> Option<Result<String, Error>> {
    match next() {
        Some(Ev::Shared(s)) => s,
        Some(_) => out_of_step(),
        None => {
            let s = f();
            record(Ev::Shared(s.clone()));
            s
        }
    }
}

/// The answer to the ask when the tape has it, else suspends the pass with `make()`.
pub fn ask(make: impl FnOnce() -> Ask) -> Result<Ev, Suspend> {
    match next() {
        Some(ev) => Ok(ev),
        None => {
            let a = make();
            PENDING.with(|p| *p.borrow_mut() = Some(a));
            Err(Suspend)
        }
    }
}
