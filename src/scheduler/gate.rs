//! The global cap on posts in flight, handed out by priority: when every
//! permit is taken, the next one freed goes to the most urgent waiter
//! (escalations, critical first; then reminders; then chases and digests),
//! and among equals to the one that asked first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Lower is more urgent.
pub type Priority = u8;

pub const CRITICAL_ESCALATION: Priority = 0;
pub const ESCALATION: Priority = 1;
pub const REMINDER: Priority = 2;
pub const NOTICE: Priority = 3;

pub struct Gate {
    state: Mutex<State>,
}

struct State {
    free: usize,
    seq: u64,
    /// Waiters, most urgent and oldest first.
    waiting: BinaryHeap<Reverse<(Priority, u64, Waiter)>>,
}

struct Waiter(oneshot::Sender<Permit>);

// The heap orders by (priority, seq) only; seq is unique.
impl PartialEq for Waiter {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// One post in flight; dropping it frees the slot for the next waiter.
pub struct Permit {
    gate: Option<Arc<Gate>>,
}

impl Gate {
    pub fn new(permits: usize) -> Arc<Gate> {
        Arc::new(Gate {
            state: Mutex::new(State {
                free: permits.max(1),
                seq: 0,
                waiting: BinaryHeap::new(),
            }),
        })
    }

    /// Wait for a permit at `priority`.
    pub async fn acquire(self: &Arc<Self>, priority: Priority) -> Permit {
        let rx = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if s.free > 0 && s.waiting.is_empty() {
                s.free -= 1;
                return Permit {
                    gate: Some(self.clone()),
                };
            }
            let (tx, rx) = oneshot::channel();
            s.seq += 1;
            let seq = s.seq;
            s.waiting.push(Reverse((priority, seq, Waiter(tx))));
            rx
        };
        match rx.await {
            Ok(permit) => permit,
            // The gate hands a permit to every waiter it pops; a closed
            // channel cannot happen while the gate lives, but never hang.
            Err(_) => Permit {
                gate: Some(self.clone()),
            },
        }
    }

    /// Posts that may start now without waiting.
    #[cfg(test)]
    pub fn available(&self) -> usize {
        self.state.lock().map(|s| s.free).unwrap_or(0)
    }

    fn release(self: &Arc<Self>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(Reverse((_, _, Waiter(tx)))) = s.waiting.pop() {
            let permit = Permit {
                gate: Some(self.clone()),
            };
            match tx.send(permit) {
                Ok(()) => return,
                // That waiter gave up: its permit goes to the next one,
                // without running its drop (which would take this lock).
                Err(mut unused) => {
                    unused.gate = None;
                }
            }
        }
        s.free += 1;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_freed_permit_goes_to_the_most_urgent_waiter_then_the_oldest() {
        let gate = Gate::new(1);
        let held = gate.acquire(NOTICE).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [
            ("notice", NOTICE),
            ("reminder", REMINDER),
            ("critical", CRITICAL_ESCALATION),
            ("reminder2", REMINDER),
        ] {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _p = gate.acquire(prio).await;
                order.lock().unwrap().push(name);
            }));
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            vec!["critical", "reminder", "reminder2", "notice"]
        );
        assert_eq!(gate.available(), 1);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_lose_the_permit() {
        let gate = Gate::new(1);
        let held = gate.acquire(REMINDER).await;
        let g = gate.clone();
        let quitter = tokio::spawn(async move {
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(5), g.acquire(ESCALATION))
                    .await;
        });
        quitter.await.unwrap();
        drop(held);
        assert_eq!(gate.available(), 1);
        let _again = gate.acquire(NOTICE).await;
        assert_eq!(gate.available(), 0);
    }
}
