//! Single-core wake-up primitives: a latched `LocalEvent` (fires once, every
//! waiter and every later waiter completes) and an edge-triggered `Notify`.
//! Both are `!Send` on purpose: they never leave their core.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A one-shot latch. Waiters park in slots so that each re-poll replaces its
/// own waker instead of growing a list (thousands of connections may wait).
#[derive(Default)]
pub struct LocalEvent {
    fired: Cell<bool>,
    slots: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

impl LocalEvent {
    /// A new, unfired event.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Fires the event, waking every waiter. Idempotent.
    pub fn fire(&self) {
        if self.fired.replace(true) {
            return;
        }
        let slots = std::mem::take(&mut *self.slots.borrow_mut());
        self.free.borrow_mut().clear();
        for waker in slots.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Whether the event has fired.
    pub fn is_fired(&self) -> bool {
        self.fired.get()
    }

    /// A `'static` future completing once the event has fired.
    pub fn wait(self: &Rc<Self>) -> EventWait {
        EventWait {
            event: Rc::clone(self),
            slot: None,
        }
    }

    fn park(&self, slot: &mut Option<usize>, waker: &Waker) {
        let mut slots = self.slots.borrow_mut();
        if let Some(entry) = slot.and_then(|i| slots.get_mut(i)) {
            *entry = Some(waker.clone());
            return;
        }
        let index = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                slots.push(None);
                slots.len() - 1
            }
        };
        if let Some(entry) = slots.get_mut(index) {
            *entry = Some(waker.clone());
        }
        *slot = Some(index);
    }

    fn unpark(&self, index: usize) {
        if self.fired.get() {
            return;
        }
        if let Some(entry) = self.slots.borrow_mut().get_mut(index) {
            *entry = None;
            self.free.borrow_mut().push(index);
        }
    }
}

/// Future returned by [`LocalEvent::wait`].
pub struct EventWait {
    event: Rc<LocalEvent>,
    slot: Option<usize>,
}

impl Future for EventWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.event.is_fired() {
            this.slot = None;
            return Poll::Ready(());
        }
        this.event.park(&mut this.slot, cx.waker());
        Poll::Pending
    }
}

impl Drop for EventWait {
    fn drop(&mut self) {
        if let Some(index) = self.slot.take() {
            self.event.unpark(index);
        }
    }
}

/// Edge-triggered "something changed" signal for a handful of waiters (the
/// accept loops and the drain waiter). A waiter completes on the first
/// `notify_all` after the waiter was created.
#[derive(Default)]
pub struct Notify {
    epoch: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    /// Wakes all current waiters.
    pub fn notify_all(&self) {
        self.epoch.set(self.epoch.get().wrapping_add(1));
        for waker in self.wakers.take() {
            waker.wake();
        }
    }

    /// A future completing at the next `notify_all`.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            epoch: self.epoch.get(),
        }
    }
}

/// Future returned by [`Notify::notified`].
pub struct Notified<'a> {
    notify: &'a Notify,
    epoch: u64,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.epoch.get() != self.epoch {
            return Poll::Ready(());
        }
        let mut wakers = self.notify.wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn event_wait_completes_only_after_fire() {
        let ev = LocalEvent::new();
        let mut wait = Box::pin(ev.wait());
        assert!(future::block_on(future::poll_once(&mut wait)).is_none());
        assert_eq!(ev.slots.borrow().len(), 1);
        ev.fire();
        assert!(future::block_on(future::poll_once(&mut wait)).is_some());
        // A waiter created after firing completes immediately.
        assert!(future::block_on(future::poll_once(ev.wait())).is_some());
    }

    #[test]
    fn dropped_waiters_free_their_slot_for_reuse() {
        let ev = LocalEvent::new();
        for _ in 0..100 {
            let mut wait = Box::pin(ev.wait());
            assert!(future::block_on(future::poll_once(&mut wait)).is_none());
            // Re-polling reuses the same slot.
            assert!(future::block_on(future::poll_once(&mut wait)).is_none());
        }
        assert_eq!(ev.slots.borrow().len(), 1);
    }

    #[test]
    fn notify_is_edge_triggered() {
        let n = Notify::default();
        let mut first = Box::pin(n.notified());
        assert!(future::block_on(future::poll_once(&mut first)).is_none());
        n.notify_all();
        assert!(future::block_on(future::poll_once(&mut first)).is_some());
        let mut second = Box::pin(n.notified());
        assert!(future::block_on(future::poll_once(&mut second)).is_none());
    }
}
